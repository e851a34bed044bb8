"""Applying to a call and writing a proposal: the overview, the section editor, autosave and merging.

A proposal of another organisation answers 404 to applicants (its existence is not revealed); programme
officers and admins may read every proposal but edit none.
"""

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from fundapp.accounts.models import Membership
from fundapp.applications import operations, sections
from fundapp.applications.forms import (
    MergeForm,
    ProposalDetailsForm,
    SectionForm,
    answers_from,
    apply_form,
    content_from_form,
)
from fundapp.applications.models import (
    EDITABLE_STATES,
    Call,
    Proposal,
    ProposalSection,
    ProposalState,
    SectionConflict,
)
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import local_datetime, to_local
from fundapp.core.money import minor_unit_exponent
from fundapp.core.navigation import NextAction, register_nav, register_next_actions
from fundapp.core.permissions import Role, role_required
from fundapp.core.web import show_domain_error
from fundapp.extensions import csrf, db
from fundapp.reference.models import Vocabulary, reference_items

bp = Blueprint("proposals", __name__)

register_nav(_l("My proposals"), "proposals.index", roles=[Role.APPLICANT], order=20)


# -- loading and access -------------------------------------------------------------------------------


def _wants_json():
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _load_proposal(proposal_id):
    """The proposal, if the current user may see it; 404 otherwise (never reveal others' proposals)."""
    proposal = db.session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(
            selectinload(Proposal.sections).selectinload(ProposalSection.updated_by),
            selectinload(Proposal.call).selectinload(Call.questions),
            selectinload(Proposal.organisation),
        )
    )
    if proposal is None or not proposal.can_view(current_user):
        abort(404)
    return proposal


def _load_section(proposal, key):
    spec = sections.section_spec(key)
    if spec is None:
        abort(404)
    return spec, proposal.section(key)


def _saved_label(instant):
    local = to_local(instant)
    return _("Saved at %(time)s", time=format_time(local.replace(tzinfo=None), "HH:mm"))


def _section_rows(proposal):
    """Each section with its spec, stored row and what it still lacks, for the overview."""
    return [
        {
            "spec": spec,
            "section": proposal.section(spec.key),
            "missing": sections.section_missing(proposal, spec.key),
        }
        for spec in sections.SECTIONS
    ]


def _vocabularies():
    """The reference lists the editor's selects and checkboxes offer."""
    return {
        vocabulary: reference_items(vocabulary)
        for vocabulary in (
            Vocabulary.REGION,
            Vocabulary.RED_LIST_CATEGORY,
            Vocabulary.PROTECTED_AREA_CATEGORY,
            Vocabulary.THREAT,
            Vocabulary.CONSERVATION_ACTION,
            Vocabulary.GBF_TARGET,
            Vocabulary.STANDARD_INDICATOR,
        )
    }


# -- applying -----------------------------------------------------------------------------------------


@bp.route("/calls/<reference>/apply", methods=["GET", "POST"])
@role_required(Role.APPLICANT)
def apply(reference):
    call = db.session.scalar(select(Call).where(Call.reference == reference))
    if call is None or not call.is_visible_to_public():
        abort(404)
    organisations = current_user.organisations
    existing = {
        org.id: proposal
        for org in organisations
        if (proposal := operations.existing_proposal(db.session, call, org)) is not None
    }
    form = apply_form(call, organisations)
    if not form.is_submitted() and len(organisations) > 1:
        form.organisation.data = next(
            (o.id for o in organisations if o.id not in existing), organisations[0].id
        )
    if organisations and form.validate_on_submit():
        organisation = next((o for o in organisations if o.id == form.organisation.data), None)
        try:
            proposal = operations.start_proposal(
                db.session,
                current_user,
                call,
                organisation,
                title=form.title.data,
                answers=answers_from(form, call),
                theme=form.theme.data or None,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        except IntegrityError:  # a colleague started one at the same instant
            db.session.rollback()
            flash(
                _(
                    "Your organisation has just started a proposal in this call; it is listed under "
                    "“My proposals”."
                ),
                "error",
            )
        else:
            flash(
                _(
                    "Your proposal %(reference)s is started. Every member of %(org)s can now work on it; "
                    "it saves itself as you type.",
                    reference=proposal.reference,
                    org=organisation.name_en,
                ),
                "success",
            )
            return redirect(url_for("proposals.overview", proposal_id=proposal.id))
    return render_template(
        "applications/proposals/apply.html",
        call=call,
        form=form,
        organisations=organisations,
        existing=existing,
        call_open=call.is_open(),
        now=utcnow(),
    )


# -- my proposals -------------------------------------------------------------------------------------


def _proposals_of(user):
    organisation_ids = select(Membership.organisation_id).where(Membership.user_id == user.id)
    return db.session.scalars(
        select(Proposal)
        .where(Proposal.organisation_id.in_(organisation_ids))
        .options(
            selectinload(Proposal.sections),
            selectinload(Proposal.call).selectinload(Call.questions),
            selectinload(Proposal.organisation),
        )
        .order_by(Proposal.updated_at.desc(), Proposal.id.desc())
    ).all()


@bp.route("/proposals")
@role_required(Role.APPLICANT)
def index():
    proposals = _proposals_of(current_user)
    missing = {p.id: len(sections.missing_items(p)) for p in proposals if p.state in EDITABLE_STATES}
    return render_template("applications/proposals/index.html", proposals=proposals, missing=missing)


def _applicant_actions(user):
    actions = []
    for proposal in _proposals_of(user):
        if proposal.state not in EDITABLE_STATES:
            continue
        count = len(sections.missing_items(proposal))
        closes = proposal.call.closes_at
        soon = proposal.call.is_open() and (closes - utcnow()).days < 7
        detail = (
            _(
                "%(count)d items still missing; the call closes %(when)s.",
                count=count,
                when=local_datetime(closes, "short"),
            )
            if count
            else _("Complete: ready to submit before %(when)s.", when=local_datetime(closes, "short"))
        )
        if proposal.state == ProposalState.MORE_INFO_REQUESTED:
            label = _("Answer the fund's questions on %(reference)s", reference=proposal.reference)
        elif count:
            label = _("Finish %(reference)s “%(title)s”", reference=proposal.reference, title=proposal.title)
        else:
            label = _("Submit %(reference)s “%(title)s”", reference=proposal.reference, title=proposal.title)
        actions.append(
            NextAction(
                label,
                url_for("proposals.overview", proposal_id=proposal.id),
                detail,
                "urgent" if soon or proposal.state == ProposalState.MORE_INFO_REQUESTED else "normal",
            )
        )
    return actions


register_next_actions(Role.APPLICANT, _applicant_actions)


# -- overview -----------------------------------------------------------------------------------------


@bp.route("/proposals/<int:proposal_id>")
@login_required
def overview(proposal_id):
    proposal = _load_proposal(proposal_id)
    conflicts = (
        operations.open_conflicts(db.session, proposal, current_user)
        if proposal.is_member(current_user)
        else []
    )
    return render_template(
        "applications/proposals/overview.html",
        proposal=proposal,
        rows=_section_rows(proposal),
        missing=sections.missing_items(proposal),
        general_missing=sections.general_missing(proposal),
        totals=sections.budget_totals(proposal),
        can_edit=proposal.can_edit(current_user),
        conflicts=conflicts,
        section_titles={spec.key: spec.title for spec in sections.SECTIONS},
        theme_label=_theme_label(proposal),
    )


def _theme_label(proposal):
    if not proposal.theme:
        return ""
    item = next(
        (i for i in reference_items(Vocabulary.THEME, active_only=False) if i.code == proposal.theme), None
    )
    return item.label if item is not None else proposal.theme


@bp.route("/proposals/<int:proposal_id>/details", methods=["GET", "POST"])
@login_required
def details(proposal_id):
    proposal = _load_proposal(proposal_id)
    if not proposal.is_member(current_user):
        abort(403)
    form = ProposalDetailsForm(proposal.call, obj=proposal)
    if proposal.can_edit(current_user) and form.validate_on_submit():
        try:
            operations.update_proposal_title_theme(
                db.session, current_user, proposal, title=form.title.data, theme=form.theme.data or None
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            show_domain_error(error, form)
        else:
            flash(_("Title and theme saved."), "success")
            return redirect(url_for("proposals.overview", proposal_id=proposal.id))
    elif form.is_submitted() and not proposal.can_edit(current_user):
        flash(operations.edit_refusal(proposal, current_user), "error")
    return render_template(
        "applications/proposals/details.html",
        proposal=proposal,
        form=form,
        can_edit=proposal.can_edit(current_user),
    )


# -- the section editor -------------------------------------------------------------------------------


def _render_section(proposal, spec, section, *, content=None, errors=None, base_version=None, status=200):
    form = SectionForm()
    form.base_version.data = section.version if base_version is None else base_version
    values = (
        content
        if content is not None
        else sections.editable_content(spec.key, section.content, currency=proposal.currency)
    )
    conflicts = [c for c in section.conflicts if c.resolved_at is None and c.author_id == current_user.id]
    return render_template(
        "applications/proposals/section.html",
        proposal=proposal,
        spec=spec,
        section=section,
        form=form,
        values=values,
        errors=errors or {},
        can_edit=proposal.can_edit(current_user),
        blocks=sections.section_blocks(spec.key, section.content, proposal.currency),
        missing=sections.section_missing(proposal, spec.key),
        vocabularies=_vocabularies(),
        conflicts=conflicts,
        saved_label=_saved_label(section.updated_at) if section.version else "",
        next_spec=_neighbour(spec.key, 1),
        previous_spec=_neighbour(spec.key, -1),
        sections_list=sections.SECTIONS,
        totals=sections.budget_totals(proposal),
        currency_exponent=minor_unit_exponent(proposal.currency),
        **_choices(),
    ), status


def _choices():
    return {
        "budget_categories": sections.BUDGET_CATEGORIES,
        "likelihoods": sections.LIKELIHOODS,
        "safeguards": sections.SAFEGUARDS,
        "max_years": sections.MAX_PROJECT_YEARS,
        "preview_line": sections.preview_line,
    }


def _neighbour(key, step):
    index = sections.SECTION_KEYS.index(key) + step
    return sections.SECTIONS[index] if 0 <= index < len(sections.SECTIONS) else None


@bp.route("/proposals/<int:proposal_id>/sections/<key>", methods=["GET", "POST"])
@login_required
def section(proposal_id, key):
    proposal = _load_proposal(proposal_id)
    spec, section = _load_section(proposal, key)
    if section is None:  # a proposal made before a section was added
        section = ProposalSection(key=key, content={}, version=0, updated_at=proposal.created_at)
    if request.method == "GET":
        return _render_section(proposal, spec, section)
    if not proposal.is_member(current_user):
        abort(403)
    form = SectionForm()
    if not form.validate_on_submit():
        abort(400)
    raw = content_from_form(request.form)
    try:
        operations.save_section(db.session, current_user, proposal, key, raw, _int(form.base_version.data))
        db.session.commit()
    except operations.SectionConflictError as error:
        db.session.commit()  # keep the conflict
        flash(error.message, "warning")
        return redirect(
            url_for("proposals.merge", proposal_id=proposal.id, key=key, conflict_id=error.conflict.id)
        )
    except operations.SectionInvalid as error:
        db.session.rollback()
        flash(error.message, "error")
        return _render_section(
            proposal,
            spec,
            proposal.section(key) or section,
            content=raw,
            errors=error.errors,
            base_version=form.base_version.data,
            status=422,
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("proposals.section", proposal_id=proposal.id, key=key))
    flash(_("%(section)s saved.", section=spec.title), "success")
    return redirect(url_for("proposals.section", proposal_id=proposal.id, key=key))


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _json_error(status, message, **extra):
    return jsonify({"error": message, **extra}), status


@bp.route("/proposals/<int:proposal_id>/sections/<key>/autosave", methods=["POST"])
@csrf.exempt  # checked below, after the login: an expired login must answer 401, not a CSRF error
def autosave(proposal_id, key):
    if not current_user.is_authenticated:
        return _json_error(
            401,
            _(
                "Your login has expired. Your text is kept in this browser. Log in again "
                "(opens a new tab) and it will be saved."
            ),
            login_url=url_for("accounts.login"),
        )
    try:
        csrf.protect()
    except CSRFError:
        return _json_error(
            400,
            _("Your page's security token has expired. Reload the token and try again."),
            csrf_url=url_for("proposals.csrf_token"),
        )
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not proposal.can_view(current_user) or sections.section_spec(key) is None:
        return _json_error(404, _("There is no such proposal section."))
    if not proposal.is_member(current_user):
        return _json_error(403, _("You can read this proposal but not edit it."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("content"), dict):
        return _json_error(400, _('Send the section as JSON: {"content": {...}, "base_version": n}.'))
    base_version = payload.get("base_version")
    if not isinstance(base_version, int) or isinstance(base_version, bool):
        return _json_error(400, _("base_version must be a whole number."))
    try:
        section = operations.save_section(
            db.session, current_user, proposal, key, payload["content"], base_version
        )
        db.session.commit()
    except operations.SectionConflictError as error:
        db.session.commit()  # keep the conflict
        return _json_error(
            409,
            error.message,
            theirs={"version": error.section.version, "content": error.theirs},
            yours={"base_version": error.conflict.base_version, "content": error.yours},
            merge_url=url_for(
                "proposals.merge", proposal_id=proposal.id, key=key, conflict_id=error.conflict.id
            ),
        )
    except operations.SectionInvalid as error:
        db.session.rollback()
        return _json_error(422, error.message, errors=error.errors)
    except DomainError as error:
        db.session.rollback()
        return _json_error(409 if proposal.state not in EDITABLE_STATES else 403, error.message)
    totals = sections.budget_totals(proposal)
    return jsonify(
        {
            "version": section.version,
            "saved_at": section.updated_at.isoformat(),
            "saved_at_label": _saved_label(section.updated_at),
            "missing": sections.section_missing(proposal, key),
            "totals": {name: {"minor": value.minor, "text": str(value)} for name, value in totals.items()},
        }
    )


@bp.errorhandler(CSRFError)
def csrf_error(error):
    """Pages of this blueprint sent as JSON get a JSON 400; forms get the app's error page."""
    if _wants_json():
        return _json_error(
            400,
            _("Your page's security token has expired. Reload the token and try again."),
            csrf_url=url_for("proposals.csrf_token"),
        )
    return render_template(
        "errors/error.html",
        status=400,
        message=_("Your form expired or was sent from elsewhere. Reload the page and send it again."),
    ), 400


@bp.route("/csrf-token")
def csrf_token():
    """A fresh CSRF token, for the editor's script after the login ran out and was renewed in another tab."""
    response = jsonify({"token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


# -- merging ------------------------------------------------------------------------------------------


@bp.route("/proposals/<int:proposal_id>/sections/<key>/conflicts/<int:conflict_id>", methods=["GET", "POST"])
@login_required
def merge(proposal_id, key, conflict_id):
    proposal = _load_proposal(proposal_id)
    spec, section = _load_section(proposal, key)
    conflict = db.session.get(SectionConflict, conflict_id)
    if section is None or conflict is None or conflict.section_id != section.id:
        abort(404)
    if not proposal.is_member(current_user):
        abort(403)
    form = MergeForm()
    values = sections.editable_content(key, conflict.content, currency=proposal.currency)
    errors = {}
    status = 200
    if request.method == "GET":
        form.base_version.data = section.version
    elif not form.validate_on_submit():
        abort(400)
    else:
        raw = content_from_form(request.form)
        try:
            operations.resolve_conflict(
                db.session, current_user, conflict, raw, base_version=_int(form.base_version.data)
            )
            db.session.commit()
        except operations.SectionConflictError as error:
            db.session.commit()
            flash(error.message, "warning")
            return redirect(
                url_for("proposals.merge", proposal_id=proposal.id, key=key, conflict_id=error.conflict.id)
            )
        except operations.SectionInvalid as error:
            db.session.rollback()
            flash(error.message, "error")
            values, errors, status = raw, error.errors, 422
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("proposals.section", proposal_id=proposal.id, key=key))
        else:
            flash(_("The merged version of %(section)s is saved.", section=spec.title), "success")
            return redirect(url_for("proposals.section", proposal_id=proposal.id, key=key))
    return render_template(
        "applications/proposals/merge.html",
        proposal=proposal,
        spec=spec,
        section=section,
        conflict=conflict,
        form=form,
        values=values,
        errors=errors,
        can_edit=proposal.can_edit(current_user) and conflict.resolved_at is None,
        theirs=sections.section_blocks(key, section.content, proposal.currency),
        yours=sections.section_blocks(key, conflict.content, proposal.currency),
        vocabularies=_vocabularies(),
        **_choices(),
    ), status
