"""The workflow engine: legal moves change state and are audited; refused moves explain and change nothing."""

from enum import StrEnum

import pytest
from sqlalchemy import Integer, MetaData, String, func, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fundapp.core.audit import AuditEvent
from fundapp.core.errors import DomainError
from fundapp.core.permissions import Role
from fundapp.core.workflow import IllegalTransition, Transition, Workflow, state_label, transition
from tests.factories import make_user


class PaperState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_INFO_REQUESTED = "more_info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ARCHIVED = "archived"


def _needs_title(paper, actor):
    return None if paper.title else "Give the paper a title before submitting it."


PAPER_WORKFLOW = Workflow(
    "paper",
    "state",
    [
        Transition(
            PaperState.DRAFT, PaperState.SUBMITTED, {Role.APPLICANT}, guard=_needs_title, label="Submit"
        ),
        Transition(PaperState.DRAFT, PaperState.WITHDRAWN, {Role.APPLICANT}),
        Transition(
            PaperState.SUBMITTED,
            PaperState.MORE_INFO_REQUESTED,
            {Role.PROGRAMME_OFFICER},
            requires_reason=True,
        ),
        Transition(PaperState.SUBMITTED, PaperState.APPROVED, {Role.PROGRAMME_OFFICER, Role.ADMIN}),
        Transition(PaperState.SUBMITTED, PaperState.REJECTED, {Role.PROGRAMME_OFFICER}, requires_reason=True),
        Transition(PaperState.SUBMITTED, PaperState.WITHDRAWN, {Role.APPLICANT}),
        Transition(
            PaperState.MORE_INFO_REQUESTED, PaperState.SUBMITTED, {Role.APPLICANT}, guard=_needs_title
        ),
        Transition(PaperState.APPROVED, PaperState.ARCHIVED, system=True),
        Transition(PaperState.REJECTED, PaperState.ARCHIVED, {Role.ADMIN}, system=True),
    ],
)


class Paper:
    """A plain object standing in for a model: the engine needs only a state attribute and an id."""

    def __init__(self, state=PaperState.DRAFT, title="Saiga calving grounds survey", id=7):
        self.id = id
        self.state = state
        self.title = title


def audit_count(db):
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def applicant(db):
    return make_user(roles=[Role.APPLICANT])


@pytest.fixture
def officer(db):
    return make_user(roles=[Role.PROGRAMME_OFFICER])


# -- legal moves -----------------------------------------------------------------------------------------


def test_legal_move_changes_state_and_writes_one_audit_event(db, applicant):
    paper = Paper()
    events_before = audit_count(db)

    event = transition(db.session, PAPER_WORKFLOW, paper, PaperState.SUBMITTED, applicant)

    assert paper.state is PaperState.SUBMITTED
    assert audit_count(db) == events_before + 1
    stored = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert stored is event
    assert (stored.action, stored.entity_type, stored.entity_id) == ("paper.submitted", "Paper", "7")
    assert stored.actor_id == applicant.id
    assert stored.before == {"state": "draft"}
    assert stored.after == {"state": "submitted", "reason": None}


def test_reason_and_context_are_recorded(db, officer):
    paper = Paper(state=PaperState.SUBMITTED)

    event = transition(
        db.session,
        PAPER_WORKFLOW,
        paper,
        PaperState.REJECTED,
        officer,
        reason="  Outside the call's region.  ",
        context={"meeting": 12},
    )

    assert paper.state is PaperState.REJECTED
    assert event.after == {
        "state": "rejected",
        "reason": "Outside the call's region.",
        "context": {"meeting": 12},
    }


def test_target_may_be_given_as_the_state_value(db, applicant):
    paper = Paper()

    transition(db.session, PAPER_WORKFLOW, paper, "withdrawn", applicant)

    assert paper.state is PaperState.WITHDRAWN


def test_the_system_makes_a_system_move(db):
    paper = Paper(state=PaperState.APPROVED)

    event = transition(db.session, PAPER_WORKFLOW, paper, PaperState.ARCHIVED, None)

    assert paper.state is PaperState.ARCHIVED
    assert (event.actor_id, event.actor_label) == (None, "system")


def test_a_person_may_also_make_a_system_move_that_names_their_role(db):
    admin = make_user(roles=[Role.ADMIN])
    paper = Paper(state=PaperState.REJECTED)

    transition(db.session, PAPER_WORKFLOW, paper, PaperState.ARCHIVED, admin)

    assert paper.state is PaperState.ARCHIVED


# -- refused moves ---------------------------------------------------------------------------------------


def assert_refused(db, paper, target, actor, **kwargs):
    """The move raises IllegalTransition, leaves the state as it was and writes no audit event."""
    state_before = paper.state
    events_before = audit_count(db)

    with pytest.raises(IllegalTransition) as refused:
        transition(db.session, PAPER_WORKFLOW, paper, target, actor, **kwargs)

    assert paper.state is state_before
    assert audit_count(db) == events_before
    return refused.value


def test_a_move_not_in_the_table_is_refused_with_the_moves_that_are(db, officer):
    error = assert_refused(db, Paper(), PaperState.APPROVED, officer)

    assert error.message == (
        "This paper is Draft, so it cannot become Approved. From Draft it can become: Submitted, Withdrawn."
    )
    assert isinstance(error, DomainError)
    assert (error.source, error.target) == (PaperState.DRAFT, PaperState.APPROVED)


def test_a_final_state_says_it_does_not_change_any_more(db, officer):
    error = assert_refused(db, Paper(state=PaperState.WITHDRAWN), PaperState.SUBMITTED, officer)

    assert error.message == (
        "This paper is Withdrawn, so it cannot become Submitted: from Withdrawn it does not change any more."
    )


def test_moving_to_the_current_state_is_refused(db, applicant):
    error = assert_refused(db, Paper(state=PaperState.SUBMITTED), PaperState.SUBMITTED, applicant)

    assert error.message == "This paper is already Submitted."


def test_an_unknown_target_is_refused(db, applicant):
    error = assert_refused(db, Paper(), "published", applicant)

    assert error.message == "“published” is not a state this paper can have."


def test_an_actor_without_the_role_is_refused(db, applicant):
    error = assert_refused(db, Paper(state=PaperState.SUBMITTED), PaperState.APPROVED, applicant)

    assert error.message == (
        "Moving this paper from Submitted to Approved needs the role Admin or Programme officer, "
        "which you do not have."
    )


def test_the_system_cannot_make_a_move_meant_for_a_person(db):
    error = assert_refused(db, Paper(state=PaperState.SUBMITTED), PaperState.APPROVED, None)

    assert "must be done by a person (Admin or Programme officer)" in error.message


def test_a_person_cannot_make_a_move_only_the_system_makes(db):
    admin = make_user(roles=[Role.ADMIN])

    error = assert_refused(db, Paper(state=PaperState.APPROVED), PaperState.ARCHIVED, admin)

    assert (
        error.message
        == "This paper moves from Approved to Archived automatically; it cannot be done by hand."
    )


def test_a_guard_refusal_shows_the_guards_message(db, applicant):
    error = assert_refused(db, Paper(title=""), PaperState.SUBMITTED, applicant)

    assert error.message == "Give the paper a title before submitting it."


def test_a_move_that_requires_a_reason_is_refused_without_one(db, officer):
    error = assert_refused(
        db, Paper(state=PaperState.SUBMITTED), PaperState.MORE_INFO_REQUESTED, officer, reason=" "
    )

    assert error.message == "Give a reason for moving this paper to More info requested."
    assert error.field == "reason"


def test_the_role_is_checked_before_the_guard(db, officer):
    """Someone who may not make the move learns that, not the details the guard looks at."""
    error = assert_refused(db, Paper(title=""), PaperState.SUBMITTED, officer)

    assert "needs the role Applicant" in error.message


# -- asking without moving -------------------------------------------------------------------------------


def test_allowed_targets_lists_what_this_actor_may_do_now(db, applicant, officer):
    assert PAPER_WORKFLOW.allowed_targets(Paper(), applicant) == [PaperState.SUBMITTED, PaperState.WITHDRAWN]
    assert PAPER_WORKFLOW.allowed_targets(Paper(title=""), applicant) == [PaperState.WITHDRAWN]
    assert PAPER_WORKFLOW.allowed_targets(Paper(), officer) == []
    assert PAPER_WORKFLOW.allowed_targets(Paper(state=PaperState.SUBMITTED), officer) == [
        PaperState.MORE_INFO_REQUESTED,
        PaperState.APPROVED,
        PaperState.REJECTED,
    ]
    assert PAPER_WORKFLOW.allowed_targets(Paper(state=PaperState.APPROVED), None) == [PaperState.ARCHIVED]


def test_allowed_transitions_carry_button_labels(db, applicant):
    labels = [move.action_label for move in PAPER_WORKFLOW.allowed_transitions(Paper(), applicant)]

    assert labels == ["Submit", "Withdrawn"]


def test_can_answers_without_changing_anything(db, applicant, officer):
    paper = Paper(state=PaperState.SUBMITTED)
    events_before = audit_count(db)

    assert PAPER_WORKFLOW.can(paper, PaperState.APPROVED, officer)
    assert not PAPER_WORKFLOW.can(paper, PaperState.APPROVED, applicant)
    assert PAPER_WORKFLOW.can(paper, PaperState.REJECTED, officer), "the reason is asked for later"
    assert paper.state is PaperState.SUBMITTED
    assert audit_count(db) == events_before


def test_refusal_gives_the_reason_a_button_is_missing(db, applicant):
    assert PAPER_WORKFLOW.refusal(Paper(), PaperState.SUBMITTED, applicant) is None
    assert PAPER_WORKFLOW.refusal(Paper(title=""), PaperState.SUBMITTED, applicant) == (
        "Give the paper a title before submitting it."
    )


# -- states and tables -----------------------------------------------------------------------------------


class GrantState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"

    @property
    def label(self):
        return {"active": "Running", "suspended": "On hold"}[self.value]


def test_state_label_uses_the_members_label_or_humanises_the_value():
    assert state_label(PaperState.MORE_INFO_REQUESTED) == "More info requested"
    assert state_label(GrantState.SUSPENDED) == "On hold"


def test_messages_use_state_labels_and_the_workflow_label(db):
    workflow = Workflow(
        "grant", "state", [Transition(GrantState.ACTIVE, GrantState.SUSPENDED, {Role.ADMIN})], label="grant"
    )
    officer = make_user(roles=[Role.FINANCE_OFFICER])

    with pytest.raises(IllegalTransition, match="from Running to On hold needs the role Admin"):
        transition(db.session, workflow, Paper(state=GrantState.ACTIVE), GrantState.SUSPENDED, officer)


def test_a_table_listing_one_move_twice_is_refused():
    move = Transition(PaperState.DRAFT, PaperState.SUBMITTED, {Role.APPLICANT})

    with pytest.raises(ValueError, match="twice"):
        Workflow("paper", "state", [move, move])


def test_a_move_nobody_could_make_is_refused():
    with pytest.raises(ValueError, match="nobody could make it"):
        Transition(PaperState.DRAFT, PaperState.SUBMITTED)


def test_a_move_between_states_of_different_enums_is_refused():
    with pytest.raises(TypeError):
        Transition(PaperState.DRAFT, GrantState.ACTIVE, {Role.ADMIN})


# -- a stored entity -------------------------------------------------------------------------------------


class _ThrowawayBase(DeclarativeBase):
    """A metadata of its own, so this table never joins the app's schema."""

    metadata = MetaData()


class StoredPaper(_ThrowawayBase):
    __tablename__ = "test_workflow_paper"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[PaperState] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="Snow leopard camera traps")


@pytest.fixture
def stored_papers(db):
    _ThrowawayBase.metadata.create_all(db.session.connection())
    return db.session


def test_a_stored_entity_is_moved_and_audited_under_its_id(db, stored_papers, officer):
    paper = StoredPaper(state=PaperState.SUBMITTED)
    stored_papers.add(paper)
    stored_papers.flush()

    event = transition(stored_papers, PAPER_WORKFLOW, paper, PaperState.APPROVED, officer)

    stored_papers.expire_all()
    assert stored_papers.get(StoredPaper, paper.id).state == PaperState.APPROVED
    assert (event.entity_type, event.entity_id) == ("StoredPaper", str(paper.id))


def test_the_state_is_reread_so_a_change_made_meanwhile_is_not_overwritten(
    db, stored_papers, officer, applicant
):
    paper = StoredPaper(state=PaperState.SUBMITTED)
    stored_papers.add(paper)
    stored_papers.flush()
    # Another request withdraws the paper after this one loaded it.
    stored_papers.execute(
        update(StoredPaper.__table__)
        .where(StoredPaper.id == paper.id)
        .values(state=PaperState.WITHDRAWN.value)
    )
    assert paper.state == PaperState.SUBMITTED, "this request still holds the stale state"

    with pytest.raises(IllegalTransition, match="This paper is Withdrawn, so it cannot become Approved"):
        transition(stored_papers, PAPER_WORKFLOW, paper, PaperState.APPROVED, officer)

    stored_papers.expire_all()
    assert stored_papers.get(StoredPaper, paper.id).state == PaperState.WITHDRAWN
