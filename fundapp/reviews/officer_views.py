"""The programme officer's review pages, and the reviewer's own profile.

``review_admin`` (under ``/officer/reviews``): per call, the rubric editor and the assignment board
("Assign automatically", then per proposal: assign by hand, remove, close the review, each with a reason);
the reviewer pool and each reviewer's profile. Programme officers only, like the other officer pages; the
pool is open to admins as well, who manage the people in it.

``reviewer_profile`` (under ``/reviewer/profile``): a reviewer edits their own expertise and languages and
may add an affiliation; removing one is for officers only, or a reviewer could hide a conflict.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from fundapp.accounts.models import Organisation, User
from fundapp.applications.models import Call, Proposal, ProposalState
from fundapp.applications.officer_views import endpoint_url
from fundapp.core.errors import DomainError
from fundapp.core.permissions import Role, role_required
from fundapp.core.web import show_domain_error
from fundapp.extensions import db
from fundapp.reference.models import Vocabulary, reference_items
from fundapp.reviews import operations
from fundapp.reviews.forms import (
    LANGUAGE_LABELS,
    AddAffiliationForm,
    CriterionForm,
    ExpertiseForm,
    ManualAssignForm,
    ReasonForm,
    ReviewerProfileForm,
    RubricSettingsForm,
    StartRubricForm,
)
from fundapp.reviews.models import ACTIVE_ASSIGNMENT_STATES, Assignment, Criterion

bp = Blueprint("review_admin", __name__)
profile_bp = Blueprint("reviewer_profile", __name__)

officer_only = role_required(Role.PROGRAMME_OFFICER)
pool_keepers = role_required(Role.PROGRAMME_OFFICER, Role.ADMIN)


def _get_or_404(model, object_id):
    thing = db.session.get(model, object_id)
    if thing is None:
        abort(404)
    return thing


def _labels(vocabulary):
    return {item.code: item.label for item in reference_items(vocabulary, active_only=False)}


def _commit_or_show(action, form=None):
    """Run ``action()``; commit and return True, or roll back, show the refusal and return False."""
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        show_domain_error(error, form)
        return False
    db.session.commit()
    return True


# -- calls and the assignment board --------------------------------------------------------------------------


@bp.route("/")
@officer_only
def index():
    return render_template(
        "reviews/officer/index.html",
        calls=operations.calls_with_reviews(db.session),
        states=ProposalState,
    )


@bp.route("/calls/<int:call_id>")
@officer_only
def board(call_id):
    call = _get_or_404(Call, call_id)
    rubric, rows = operations.assignment_board(db.session, call)
    return render_template(
        "reviews/officer/board.html",
        call=call,
        rubric=rubric,
        rows=rows,
        assign_form=FlaskForm(),
        short=sum(1 for row in rows if row.proposal.state in operations.ASSIGNABLE_STATES and row.missing),
        active_states=ACTIVE_ASSIGNMENT_STATES,
        ranking_url=endpoint_url(["ranking.ranking_page"], reference=call.reference),
    )


@bp.route("/calls/<int:call_id>/assign", methods=["POST"])
@officer_only
def assign_automatically(call_id):
    call = _get_or_404(Call, call_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    result = {}

    def action():
        result["run"] = operations.assign_reviewers(db.session, current_user, call)

    if _commit_or_show(action):
        run = result["run"]
        if run.created:
            flash(
                ngettext(
                    "%(num)d assignment made; the reviewers have been told.",
                    "%(num)d assignments made; the reviewers have been told.",
                    len(run.created),
                ),
                "success",
            )
        else:
            flash(_("No assignment was needed or possible."), "info")
        if run.unfilled:
            flash(
                ngettext(
                    "%(num)d proposal is still short of reviewers: every other reviewer is conflicted, "
                    "already on it or at their maximum load. Assign by hand or widen the pool.",
                    "%(num)d proposals are still short of reviewers: every other reviewer is conflicted, "
                    "already on them or at their maximum load. Assign by hand or widen the pool.",
                    len(run.unfilled),
                ),
                "warning",
            )
    return redirect(url_for("review_admin.board", call_id=call.id))


# -- one proposal's reviewers --------------------------------------------------------------------------------


def _proposal_page(
    proposal, *, assign_form=None, close_form=None, remove_form=None, remove_id=None, status=200
):
    rubric = operations.rubric_of(db.session, proposal.call)
    candidates = operations.manual_candidates(db.session, proposal)
    assignments = db.session.scalars(
        select(Assignment)
        .where(Assignment.proposal_id == proposal.id)
        .order_by(Assignment.assigned_at, Assignment.id)
    ).all()
    active_ids = {a.id for a in operations.active_assignments(db.session, proposal)}
    candidates = [
        c
        for c in candidates
        if c.reviewer.id not in {a.reviewer_id for a in assignments if a.id in active_ids}
    ]
    candidates.sort(
        key=lambda c: (c.conflict is not None, -c.match, c.load, c.reviewer.full_name, c.reviewer.id)
    )
    conflicts = operations.conflicted_organisation_ids(db.session, [a.reviewer_id for a in assignments])
    return (
        render_template(
            "reviews/officer/proposal.html",
            proposal=proposal,
            rubric=rubric,
            needed=rubric.reviewers_per_proposal if rubric else 3,
            assignments=assignments,
            active_ids=active_ids,
            now_conflicted={
                a.id
                for a in assignments
                if a.id in active_ids and proposal.organisation_id in conflicts.get(a.reviewer_id, ())
            },
            assign_form=assign_form or ManualAssignForm(candidates, formdata=None),
            close_form=close_form or ReasonForm(formdata=None),
            remove_form=remove_form,
            remove_id=remove_id,
            blank_remove_form=ReasonForm(formdata=None),
            can_assign=proposal.state in operations.ASSIGNABLE_STATES,
            can_close=proposal.state == ProposalState.IN_REVIEW,
        ),
        status,
    )


def _officer_proposal(proposal_id):
    proposal = _get_or_404(Proposal, proposal_id)
    return proposal


@bp.route("/proposals/<int:proposal_id>")
@officer_only
def proposal_reviewers(proposal_id):
    return _proposal_page(_officer_proposal(proposal_id))


@bp.route("/proposals/<int:proposal_id>/assign", methods=["POST"])
@officer_only
def assign_by_hand(proposal_id):
    proposal = _officer_proposal(proposal_id)
    form = ManualAssignForm(operations.manual_candidates(db.session, proposal))
    if form.validate_on_submit():
        reviewer = db.session.get(User, form.reviewer_id.data)

        def action():
            operations.assign_manually(db.session, current_user, proposal, reviewer, form.reason.data)

        if _commit_or_show(action, form):
            flash(
                _(
                    "%(name)s is assigned to %(reference)s and has been told.",
                    name=reviewer.full_name,
                    reference=proposal.reference,
                ),
                "success",
            )
            return redirect(url_for("review_admin.proposal_reviewers", proposal_id=proposal.id))
    return _proposal_page(proposal, assign_form=form)


@bp.route("/assignments/<int:assignment_id>/remove", methods=["POST"])
@officer_only
def remove(assignment_id):
    assignment = _get_or_404(Assignment, assignment_id)
    proposal = assignment.proposal
    form = ReasonForm()
    if form.validate_on_submit():
        name = assignment.reviewer.full_name

        def action():
            operations.remove_assignment(db.session, current_user, assignment, form.reason.data)

        if _commit_or_show(action, form):
            flash(
                _("%(name)s no longer reviews %(reference)s.", name=name, reference=proposal.reference),
                "success",
            )
            return redirect(url_for("review_admin.proposal_reviewers", proposal_id=proposal.id))
    return _proposal_page(proposal, remove_form=form, remove_id=assignment.id)


@bp.route("/proposals/<int:proposal_id>/close", methods=["POST"])
@officer_only
def close(proposal_id):
    proposal = _officer_proposal(proposal_id)
    form = ReasonForm()
    if form.validate_on_submit():

        def action():
            operations.close_review(db.session, current_user, proposal, form.reason.data)

        if _commit_or_show(action, form):
            flash(_("The review of %(reference)s is closed.", reference=proposal.reference), "success")
            return redirect(url_for("review_admin.board", call_id=proposal.call_id))
    return _proposal_page(proposal, close_form=form)


# -- the rubric ----------------------------------------------------------------------------------------------


def _rubric_page(call, rubric, settings_form=None, status=200):
    if rubric is not None and settings_form is None:
        settings_form = RubricSettingsForm(formdata=None, data=_settings_data(rubric))
    return (
        render_template(
            "reviews/officer/rubric.html",
            call=call,
            rubric=rubric,
            settings_form=settings_form,
            start_form=StartRubricForm(),
            remove_form=FlaskForm(),
            locked=operations.criteria_lock_reason(db.session, call),
            total_weight=sum(c.weight for c in rubric.criteria) if rubric else 0,
            ranking_url=endpoint_url(["ranking.ranking_page"], reference=call.reference),
        ),
        status,
    )


def _settings_data(rubric):
    from fundapp.applications.calls import fund_wall_clock

    return {
        "reviewers_per_proposal": rubric.reviewers_per_proposal,
        "blind": rubric.blind,
        "reviewers_see_others": rubric.reviewers_see_others,
        "disagreement_spread": rubric.disagreement_spread,
        "recommendation_split_percent": rubric.recommendation_split_percent,
        "due_at": fund_wall_clock(rubric.due_at),
    }


@bp.route("/calls/<int:call_id>/rubric", methods=["GET", "POST"])
@officer_only
def rubric(call_id):
    call = _get_or_404(Call, call_id)
    the_rubric = operations.rubric_of(db.session, call)
    if request.method == "GET":
        return _rubric_page(call, the_rubric)
    if the_rubric is None:
        abort(404)
    form = RubricSettingsForm()
    if form.validate_on_submit():

        def action():
            operations.save_rubric_settings(db.session, current_user, the_rubric, form.settings())

        if _commit_or_show(action, form):
            flash(_("The review settings of %(reference)s are saved.", reference=call.reference), "success")
            return redirect(url_for("review_admin.rubric", call_id=call.id))
    return _rubric_page(call, the_rubric, form)


@bp.route("/calls/<int:call_id>/rubric/start", methods=["POST"])
@officer_only
def start_rubric(call_id):
    call = _get_or_404(Call, call_id)
    form = StartRubricForm()
    if not form.validate_on_submit():
        abort(400)

    def action():
        operations.start_rubric(db.session, current_user, call, use_default=form.start.data == "default")

    if _commit_or_show(action):
        flash(
            _("%(reference)s has a rubric. Adjust its criteria and settings.", reference=call.reference),
            "success",
        )
    return redirect(url_for("review_admin.rubric", call_id=call.id))


def _criterion_of(call, criterion_id):
    criterion = _get_or_404(Criterion, criterion_id)
    if criterion.rubric.call_id != call.id:
        abort(404)
    return criterion


def _criterion_page(call, form, criterion=None, status=200):
    return (
        render_template(
            "reviews/officer/criterion.html",
            call=call,
            form=form,
            criterion=criterion,
            locked=operations.criteria_lock_reason(db.session, call),
        ),
        status,
    )


def _refuse_if_locked(call):
    locked = operations.criteria_lock_reason(db.session, call)
    if locked and request.method == "POST":
        flash(locked, "error")
        return redirect(url_for("review_admin.rubric", call_id=call.id))
    return None


@bp.route("/calls/<int:call_id>/rubric/criteria/new", methods=["GET", "POST"])
@officer_only
def new_criterion(call_id):
    call = _get_or_404(Call, call_id)
    the_rubric = operations.rubric_of(db.session, call)
    if the_rubric is None:
        return redirect(url_for("review_admin.rubric", call_id=call.id))
    refused = _refuse_if_locked(call)
    if refused:
        return refused
    form = CriterionForm()
    if form.validate_on_submit():

        def action():
            operations.add_criterion(db.session, current_user, the_rubric, form.criterion_data())

        if _commit_or_show(action, form):
            flash(_("Criterion added."), "success")
            return redirect(url_for("review_admin.rubric", call_id=call.id))
    return _criterion_page(call, form)


@bp.route("/calls/<int:call_id>/rubric/criteria/<int:criterion_id>", methods=["GET", "POST"])
@officer_only
def edit_criterion(call_id, criterion_id):
    call = _get_or_404(Call, call_id)
    criterion = _criterion_of(call, criterion_id)
    refused = _refuse_if_locked(call)
    if refused:
        return refused
    if request.method == "GET":
        form = CriterionForm(formdata=None, data=CriterionForm.data_of(criterion))
    else:
        form = CriterionForm()
    if form.validate_on_submit():

        def action():
            operations.update_criterion(db.session, current_user, criterion, form.criterion_data())

        if _commit_or_show(action, form):
            flash(_("Criterion saved."), "success")
            return redirect(url_for("review_admin.rubric", call_id=call.id))
    return _criterion_page(call, form, criterion)


@bp.route("/calls/<int:call_id>/rubric/criteria/<int:criterion_id>/remove", methods=["POST"])
@officer_only
def remove_criterion(call_id, criterion_id):
    call = _get_or_404(Call, call_id)
    criterion = _criterion_of(call, criterion_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    title = criterion.title

    def action():
        operations.remove_criterion(db.session, current_user, criterion)

    if _commit_or_show(action):
        flash(_("Criterion “%(title)s” removed.", title=title), "success")
    return redirect(url_for("review_admin.rubric", call_id=call.id))


# -- the reviewer pool ---------------------------------------------------------------------------------------


def _organisations():
    return db.session.scalars(select(Organisation).order_by(Organisation.name_en, Organisation.id)).all()


@bp.route("/pool")
@pool_keepers
def pool():
    calls = {call.id: call for call in db.session.scalars(select(Call))}
    return render_template(
        "reviews/officer/pool.html",
        rows=operations.reviewer_pool(db.session),
        calls=calls,
        theme_labels=_labels(Vocabulary.THEME),
        region_labels=_labels(Vocabulary.REGION),
        language_labels=LANGUAGE_LABELS,
    )


@bp.route("/pool/<int:user_id>", methods=["GET", "POST"])
@pool_keepers
def reviewer(user_id):
    person = _get_or_404(User, user_id)
    if not operations.is_reviewer(person):
        abort(404)
    profile = operations.profile_of(db.session, person)
    organisations = _organisations()
    if request.method == "GET":
        form = ReviewerProfileForm(organisations, formdata=None, data=ReviewerProfileForm.data_of(profile))
    else:
        form = ReviewerProfileForm(organisations)
    if form.validate_on_submit():

        def action():
            operations.save_profile(
                db.session, current_user, person, form.profile_data(), form.affiliations.data or []
            )

        if _commit_or_show(action, form):
            flash(_("The profile of %(name)s is saved.", name=person.full_name), "success")
            return redirect(url_for("review_admin.pool"))
    return (
        render_template("reviews/officer/reviewer.html", person=person, profile=profile, form=form),
        200,
    )


# -- the reviewer's own profile ------------------------------------------------------------------------------


def _own_page(form=None, affiliation_form=None, status=200):
    profile = operations.profile_of(db.session, current_user)
    organisations = _organisations()
    return (
        render_template(
            "reviews/officer/own_profile.html",
            profile=profile,
            form=form or ExpertiseForm(formdata=None, data=ExpertiseForm.data_of(profile)),
            affiliation_form=affiliation_form or AddAffiliationForm(organisations, formdata=None),
        ),
        status,
    )


@profile_bp.route("", methods=["GET", "POST"])
@role_required(Role.REVIEWER)
def own_profile():
    if request.method == "GET":
        return _own_page()
    form = ExpertiseForm()
    if form.validate_on_submit():

        def action():
            operations.save_own_profile(db.session, current_user, form.profile_data())

        if _commit_or_show(action, form):
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("reviewer_profile.own_profile"))
    return _own_page(form=form)


@profile_bp.route("/affiliations", methods=["POST"])
@role_required(Role.REVIEWER)
def add_affiliation():
    form = AddAffiliationForm(_organisations())
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation_id.data)

        def action():
            operations.add_own_affiliation(db.session, current_user, organisation, form.description.data)

        if _commit_or_show(action, form):
            flash(_("Affiliation added."), "success")
            return redirect(url_for("reviewer_profile.own_profile"))
    return _own_page(affiliation_form=form)
