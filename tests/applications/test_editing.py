"""Operations: starting a proposal and editing its sections (no HTTP)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fundapp.accounts.models import Membership, OrganisationType
from fundapp.applications import operations
from fundapp.applications.models import (
    CallState,
    Proposal,
    ProposalStage,
    ProposalState,
    SectionConflict,
)
from fundapp.applications.operations import SectionConflictError, SectionInvalid
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.errors import Conflict, DomainError
from fundapp.extensions import db as _db
from tests.applications.factories import (
    complete_content,
    make_call,
    make_member_proposal,
    make_outsider,
    passing_answers,
)
from tests.factories import make_applicant, make_organisation, make_user


def start(user, call, **kwargs):
    kwargs.setdefault("title", "Saiga calving grounds")
    kwargs.setdefault("answers", passing_answers(call))
    organisation = kwargs.pop("organisation", None) or user.primary_organisation
    return operations.start_proposal(_db.session, user, call, organisation, **kwargs)


def add_member(organisation, user):
    organisation.memberships.append(Membership(user=user, is_manager=False))
    _db.session.flush()


def proposal_count(db):
    return db.session.scalar(select(func.count()).select_from(Proposal))


def events(db, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


# -- starting ------------------------------------------------------------------------------------------


def test_starting_a_proposal_creates_an_empty_draft(db):
    user = make_applicant()
    call = make_call()
    proposal = start(user, call, theme="steppe_ungulates")
    assert proposal.state == ProposalState.DRAFT
    assert proposal.stage == ProposalStage.FULL
    assert proposal.organisation == user.primary_organisation
    assert proposal.currency == "KZT"
    assert proposal.theme == "steppe_ungulates"
    assert re.fullmatch(r"PRP-\d{4}-\d{4}", proposal.reference)
    assert sorted(s.key for s in proposal.sections) == sorted(operations.sections.SECTION_KEYS)
    assert all(s.version == 0 for s in proposal.sections)
    assert proposal.eligibility_answers == {str(q.id): True for q in call.questions}
    (event,) = events(db, "proposal.started")
    assert event.entity_id == str(proposal.id)
    assert event.actor_id == user.id


def test_references_count_up(db):
    call = make_call()
    first = start(make_applicant(), call)
    second = start(make_applicant(), call)
    prefix, number = first.reference.rsplit("-", 1)
    assert second.reference == f"{prefix}-{int(number) + 1:04d}"


def test_a_two_stage_call_starts_with_a_concept_note(db):
    call = make_call(stages=2, full_proposal_closes_at=utcnow() + timedelta(days=90))
    assert start(make_applicant(), call).stage == ProposalStage.CONCEPT


def test_a_closed_call_refuses_new_proposals(db):
    call = make_call(opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(seconds=1))
    with pytest.raises(DomainError, match=r"This call closed on .*; it no longer accepts proposals\."):
        start(make_applicant(), call)
    assert proposal_count(db) == 0


def test_a_call_not_yet_open_refuses_new_proposals(db):
    call = make_call(opens_at=utcnow() + timedelta(days=1), closes_at=utcnow() + timedelta(days=30))
    with pytest.raises(DomainError, match=r"This call opens on .*; you can apply from then\."):
        start(make_applicant(), call)
    assert proposal_count(db) == 0


def test_a_draft_call_refuses_new_proposals(db):
    call = make_call(state=CallState.DRAFT)
    with pytest.raises(DomainError, match=r"This call is not open for proposals\."):
        start(make_applicant(), call)


def test_an_ineligible_organisation_type_is_refused(db):
    call = make_call(eligible_org_types=[OrganisationType.NGO.value])
    user = make_user()
    make_organisation(managers=[user], org_type=OrganisationType.RESEARCH_INSTITUTE)
    with pytest.raises(DomainError, match="not open to organisations of the type “Research institute”"):
        start(user, call)
    assert proposal_count(db) == 0


def test_a_disqualifying_answer_is_refused_with_the_questions_explanation(db):
    call = make_call()
    answers = {str(q.id): False for q in call.questions}
    with pytest.raises(DomainError) as refused:
        start(make_applicant(), call, answers=answers)
    assert refused.value.message == "Only organisations registered in Kazakhstan can apply to this call."
    assert proposal_count(db) == 0


def test_an_unanswered_question_is_refused(db):
    call = make_call()
    with pytest.raises(DomainError, match="Answer the question “Is your organisation registered"):
        start(make_applicant(), call, answers={})


def test_a_second_proposal_of_the_same_organisation_in_a_call_is_refused(db):
    user = make_applicant()
    call = make_call()
    first = start(user, call)
    colleague = make_user()
    add_member(user.primary_organisation, colleague)
    with pytest.raises(DomainError) as refused:
        start(colleague, call, organisation=user.primary_organisation)
    assert (
        refused.value.message == f"Your organisation already has a proposal in this call: {first.reference}."
    )
    assert proposal_count(db) == 1


def test_the_same_organisation_may_apply_to_another_call(db):
    user = make_applicant()
    start(user, make_call())
    start(user, make_call())
    assert proposal_count(db) == 2


def test_a_non_member_cannot_start_a_proposal_for_an_organisation(db):
    outsider = make_outsider()
    organisation = make_applicant().primary_organisation
    with pytest.raises(DomainError, match="You are not a member of"):
        start(outsider, make_call(), organisation=organisation)
    assert proposal_count(db) == 0


def test_a_theme_outside_the_call_is_refused(db):
    with pytest.raises(DomainError) as refused:
        start(make_applicant(), make_call(), theme="forests")
    assert refused.value.field == "theme"


def test_a_blank_title_is_refused(db):
    with pytest.raises(DomainError) as refused:
        start(make_applicant(), make_call(), title="   ")
    assert refused.value.field == "title"


# -- saving sections -----------------------------------------------------------------------------------


def test_saving_a_section_raises_its_version_and_records_a_short_audit_event(db):
    proposal, user = make_member_proposal()
    section = operations.save_section(db.session, user, proposal, "summary", {"summary": "Seals"}, 0)
    assert section.version == 1
    assert section.content == {"summary": "Seals"}
    assert section.updated_by_id == user.id
    (event,) = events(db, "proposal.section_saved")
    assert event.before == {"section": "summary", "version": 0}
    assert event.after == {"section": "summary", "version": 1}


def test_saving_the_budget_updates_the_totals_and_tags_of_the_proposal(db):
    proposal, user = make_member_proposal()
    operations.save_section(db.session, user, proposal, "budget", complete_content("budget"), 0)
    operations.save_section(db.session, user, proposal, "sites", complete_content("sites"), 0)
    assert proposal.requested_minor == 850_000_050
    assert proposal.cofinancing_minor == 100_000_000
    assert ("region", "KZ-47") in {(t.kind, t.code) for t in proposal.tags}


def test_a_partial_draft_is_saved(db):
    proposal, user = make_member_proposal()
    section = operations.save_section(
        db.session, user, proposal, "budget", {"lines": [{"description": "Fuel"}]}, 0
    )
    assert section.content["lines"][0]["description"] == "Fuel"


def test_malformed_content_is_refused_and_nothing_changes(db):
    proposal, user = make_member_proposal(complete=True)
    before = dict(proposal.section("budget").content)
    budget = complete_content("budget")
    budget["lines"][0]["unit_cost"] = "-100"
    with pytest.raises(SectionInvalid) as refused:
        operations.save_section(db.session, user, proposal, "budget", budget, 1)
    assert refused.value.errors == {"lines-0-unit_cost": "Budget line 1: unit cost cannot be negative."}
    assert refused.value.message == "Not saved: Budget line 1: unit cost cannot be negative."
    section = proposal.section("budget")
    assert section.version == 1
    assert section.content == before
    assert proposal.requested_minor == 850_000_050
    assert events(db, "proposal.section_saved") == []


def test_a_stale_save_is_kept_as_a_conflict_and_changes_nothing_saved(db):
    proposal, alice = make_member_proposal()
    bob = make_user()
    add_member(proposal.organisation, bob)
    operations.save_section(db.session, alice, proposal, "summary", {"summary": "Alice's text"}, 0)

    with pytest.raises(SectionConflictError) as refused:
        operations.save_section(db.session, bob, proposal, "summary", {"summary": "Bob's text"}, 0)

    assert isinstance(refused.value, Conflict)
    assert refused.value.theirs == {"summary": "Alice's text"}
    assert refused.value.yours == {"summary": "Bob's text"}
    assert "saved this section while you were editing it" in refused.value.message
    section = proposal.section("summary")
    assert section.version == 1
    assert section.content == {"summary": "Alice's text"}
    assert section.updated_by_id == alice.id
    (conflict,) = db.session.scalars(select(SectionConflict)).all()
    assert conflict.content == {"summary": "Bob's text"}
    assert conflict.base_version == 0
    assert conflict.author_id == bob.id
    assert conflict.resolved_at is None


def test_saving_what_is_already_saved_changes_nothing(db):
    proposal, user = make_member_proposal()
    operations.save_section(db.session, user, proposal, "summary", {"summary": "Same"}, 0)
    section = operations.save_section(db.session, user, proposal, "summary", {"summary": "Same"}, 0)
    assert section.version == 1
    assert db.session.scalars(select(SectionConflict)).all() == []


def test_a_submitted_proposal_cannot_be_edited(db):
    proposal, user = make_member_proposal(complete=True, state=ProposalState.SUBMITTED)
    with pytest.raises(DomainError) as refused:
        operations.save_section(db.session, user, proposal, "summary", {"summary": "Late change"}, 1)
    assert refused.value.message == "This proposal has been submitted; it can no longer be edited."
    assert (
        proposal.section("summary").content
        == operations.sections.clean_section("summary", complete_content("summary"), currency="KZT")[0]
    )


def test_a_proposal_with_more_information_requested_can_be_edited(db):
    proposal, user = make_member_proposal(complete=True, state=ProposalState.MORE_INFO_REQUESTED)
    section = operations.save_section(db.session, user, proposal, "summary", {"summary": "Answer"}, 1)
    assert section.version == 2


def test_a_non_member_cannot_save_a_section(db):
    proposal, _user = make_member_proposal()
    with pytest.raises(DomainError, match="Only members of"):
        operations.save_section(db.session, make_outsider(), proposal, "summary", {"summary": "x"}, 0)
    assert proposal.section("summary").version == 0


# -- merging -------------------------------------------------------------------------------------------


def _conflicted(db):
    proposal, alice = make_member_proposal()
    operations.save_section(db.session, alice, proposal, "summary", {"summary": "Theirs"}, 0)
    with pytest.raises(SectionConflictError) as refused:
        operations.save_section(db.session, alice, proposal, "summary", {"summary": "Yours"}, 0)
    return proposal, alice, refused.value.conflict


def test_resolving_a_conflict_saves_the_merge_as_a_new_version(db):
    _proposal, user, conflict = _conflicted(db)
    section = operations.resolve_conflict(db.session, user, conflict, {"summary": "Theirs and yours"})
    assert section.version == 2
    assert section.content == {"summary": "Theirs and yours"}
    assert conflict.resolved_at is not None
    (event,) = events(db, "proposal.section_merged")
    assert event.after == {"section": "summary", "version": 2, "conflict_id": conflict.id}


def test_a_conflict_is_merged_only_once(db):
    _proposal, user, conflict = _conflicted(db)
    operations.resolve_conflict(db.session, user, conflict, {"summary": "Merged"})
    with pytest.raises(DomainError, match="already been merged"):
        operations.resolve_conflict(db.session, user, conflict, {"summary": "Again"})


def test_a_merge_based_on_an_outdated_version_becomes_a_new_conflict(db):
    proposal, user, conflict = _conflicted(db)
    operations.save_section(db.session, user, proposal, "summary", {"summary": "Newer still"}, 1)
    with pytest.raises(SectionConflictError) as refused:
        operations.resolve_conflict(db.session, user, conflict, {"summary": "Merged"}, base_version=1)
    assert proposal.section("summary").content == {"summary": "Newer still"}
    assert refused.value.conflict.content == {"summary": "Merged"}


# -- title and theme -----------------------------------------------------------------------------------


def test_title_and_theme_can_be_changed_while_editable(db):
    proposal, user = make_member_proposal()
    operations.update_proposal_title_theme(
        db.session, user, proposal, title="New title", theme="steppe_ungulates"
    )
    assert (proposal.title, proposal.theme) == ("New title", "steppe_ungulates")
    (event,) = events(db, "proposal.details_updated")
    assert event.after == {"title": "New title", "theme": "steppe_ungulates"}


def test_a_theme_outside_the_call_cannot_be_chosen_later(db):
    proposal, user = make_member_proposal()
    with pytest.raises(DomainError):
        operations.update_proposal_title_theme(db.session, user, proposal, title="T", theme="forests")
    assert proposal.theme == "marine_mammals"
