"""Screening, the officer's list and its exports, and version diffs, tested on the operations."""

import copy
import csv
import io
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from fundapp.accounts.models import Membership
from fundapp.applications import sections
from fundapp.applications.models import (
    CallState,
    Proposal,
    ProposalStage,
    ProposalState,
    ProposalTag,
    ProposalVersion,
    Screening,
    ScreeningOutcome,
)
from fundapp.applications.screening import (
    CHECKLIST_KEYS,
    ProposalFilters,
    csv_chunks,
    export_rows,
    full_proposal_of,
    neutralise,
    proposal_page,
    screen_proposal,
    snapshot_lines,
    suggested_checklist,
    version_diff,
    xlsx_bytes,
)
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import local_datetime
from fundapp.core.mail import OutboxMessage
from fundapp.core.permissions import Role
from fundapp.core.storage import StoredFile
from fundapp.core.workflow import IllegalTransition
from fundapp.extensions import db as _db
from tests.applications.factories import make_call, make_officer, make_proposal
from tests.factories import make_applicant, make_user

ALL_TICKED = dict.fromkeys(CHECKLIST_KEYS, True)


def make_version(proposal, number=1, snapshot=None):
    """A frozen version of ``proposal``: by default the editor's snapshot of it now; its PDF a stored-file
    row (no file is needed here)."""
    stored = StoredFile(
        key=uuid.uuid4().hex,
        original_name=f"{proposal.reference}-v{number}.pdf",
        content_type="application/pdf",
        size_bytes=1000,
        sha256="a" * 64,
    )
    _db.session.add(stored)
    _db.session.flush()
    version = ProposalVersion(
        proposal_id=proposal.id,
        number=number,
        snapshot=snapshot if snapshot is not None else sections.snapshot(proposal),
        pdf_file_id=stored.id,
        pdf_sha256=stored.sha256,
        submitted_at=utcnow(),
        submitted_by_id=proposal.created_by_id,
    )
    _db.session.add(version)
    _db.session.flush()
    _db.session.refresh(proposal, attribute_names=["versions"])
    return version


def submitted_proposal(call=None, organisation=None, **fields):
    """A submitted proposal with version 1."""
    fields.setdefault("submitted_at", utcnow())
    fields.setdefault("state", ProposalState.SUBMITTED)
    proposal = make_proposal(call=call, organisation=organisation, **fields)
    make_version(proposal)
    return proposal


def team_of_two():
    """An applicant's organisation with a second member: ``(organisation, [manager, colleague])``."""
    manager = make_applicant()
    organisation = manager.primary_organisation
    colleague = make_user(roles=[Role.APPLICANT])
    organisation.memberships.append(Membership(user=colleague, is_manager=False))
    _db.session.flush()
    return organisation, [manager, colleague]


def outbox(db):
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def two_stage_call(**fields):
    now = utcnow()
    return make_call(stages=2, full_proposal_closes_at=now + timedelta(days=90), **fields)


# -- screening ----------------------------------------------------------------------------------------------


def test_eligible_proposal_moves_on_and_the_screening_is_recorded(app, db):
    officer = make_officer()
    proposal = submitted_proposal()

    screening = screen_proposal(db.session, officer, proposal, ScreeningOutcome.ELIGIBLE, ALL_TICKED, "")

    assert proposal.state == ProposalState.ELIGIBLE
    assert (screening.outcome, screening.officer_id, screening.checklist) == (
        ScreeningOutcome.ELIGIBLE,
        officer.id,
        ALL_TICKED,
    )
    assert screening.version_id == proposal.versions[-1].id


def test_screening_is_audited_with_the_checklist_and_version(app, db):
    proposal = submitted_proposal()

    screen_proposal(db.session, make_officer(), proposal, ScreeningOutcome.ELIGIBLE, ALL_TICKED)

    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "proposal.eligible", AuditEvent.entity_id == str(proposal.id)
        )
    )
    assert event.after["context"] == {"checklist": ALL_TICKED, "version": 1}


def test_screening_records_the_latest_submitted_version(app, db):
    proposal = submitted_proposal()
    second = make_version(proposal, 2)

    screening = screen_proposal(db.session, make_officer(), proposal, ScreeningOutcome.ELIGIBLE, ALL_TICKED)

    assert screening.version_id == second.id


def test_eligible_needs_every_checklist_item(app, db):
    proposal = submitted_proposal()
    checklist = {**ALL_TICKED, "cofinancing_met": False}

    with pytest.raises(DomainError, match="co-financing") as refused:
        screen_proposal(db.session, make_officer(), proposal, ScreeningOutcome.ELIGIBLE, checklist)

    assert refused.value.field == "checklist"
    assert proposal.state == ProposalState.SUBMITTED
    assert db.session.scalar(select(func.count(Screening.id))) == 0


def test_checklist_may_be_given_as_the_ticked_items(app, db):
    proposal = submitted_proposal()

    screening = screen_proposal(
        db.session, make_officer(), proposal, "ineligible", ["eligible_org_type"], "Outside the themes."
    )

    assert screening.checklist == {key: key == "eligible_org_type" for key in CHECKLIST_KEYS}


def test_unknown_checklist_item_is_refused(app, db):
    with pytest.raises(DomainError, match="Unknown checklist items: bribe"):
        screen_proposal(
            db.session, make_officer(), submitted_proposal(), "eligible", {**ALL_TICKED, "bribe": True}
        )


@pytest.mark.parametrize("outcome", [ScreeningOutcome.INELIGIBLE, ScreeningOutcome.MORE_INFO])
def test_outcome_sent_to_the_applicant_needs_a_reason(app, db, outcome):
    proposal = submitted_proposal()

    with pytest.raises(DomainError, match="Give the reason") as refused:
        screen_proposal(db.session, make_officer(), proposal, outcome, ALL_TICKED, "   ")

    assert refused.value.field == "reason"
    assert proposal.state == ProposalState.SUBMITTED
    assert outbox(db) == []


def test_ineligible_reason_is_mailed_to_every_member(app, db):
    organisation, people = team_of_two()
    proposal = submitted_proposal(organisation=organisation)

    screen_proposal(
        db.session, make_officer(), proposal, ScreeningOutcome.INELIGIBLE, {}, "State bodies cannot apply."
    )

    assert proposal.state == ProposalState.INELIGIBLE
    messages = outbox(db)
    assert sorted(m.to_address for m in messages) == sorted(person.email for person in people)
    assert all("State bodies cannot apply." in m.body_text for m in messages)
    assert all(proposal.reference in m.subject for m in messages)


def test_more_information_lets_the_team_edit_and_mails_what_is_needed(app, db):
    proposal = submitted_proposal()

    screen_proposal(
        db.session,
        make_officer(),
        proposal,
        ScreeningOutcome.MORE_INFO,
        {},
        "Add the letter from the reserve.",
    )

    assert proposal.state == ProposalState.MORE_INFO_REQUESTED
    assert proposal.can_edit(proposal.organisation.memberships[0].user)
    (message,) = outbox(db)
    assert "Add the letter from the reserve." in message.body_text
    assert "submit it again" in message.body_text


def test_mail_is_written_in_each_members_language(app, db):
    organisation, (manager, colleague) = team_of_two()
    colleague.locale = "ru"
    proposal = submitted_proposal(organisation=organisation)

    screen_proposal(db.session, make_officer(), proposal, ScreeningOutcome.INELIGIBLE, {}, "Reason.")

    assert {m.to_address for m in outbox(db)} == {manager.email, colleague.email}


def test_proposal_not_waiting_for_screening_is_refused(app, db):
    proposal = make_proposal(state=ProposalState.DRAFT)

    with pytest.raises(IllegalTransition):
        screen_proposal(db.session, make_officer(), proposal, ScreeningOutcome.ELIGIBLE, ALL_TICKED)

    assert proposal.state == ProposalState.DRAFT


def test_only_a_programme_officer_screens(app, db):
    proposal = submitted_proposal()

    with pytest.raises(IllegalTransition, match="Programme officer"):
        screen_proposal(db.session, make_user(roles=[Role.REVIEWER]), proposal, "eligible", ALL_TICKED)

    assert proposal.state == ProposalState.SUBMITTED


def test_concept_note_is_not_screened_eligible(app, db):
    concept = submitted_proposal(call=two_stage_call())
    assert concept.stage == ProposalStage.CONCEPT

    with pytest.raises(IllegalTransition, match="invite the organisation or decline"):
        screen_proposal(db.session, make_officer(), concept, ScreeningOutcome.ELIGIBLE, ALL_TICKED)

    assert concept.state == ProposalState.SUBMITTED


def test_full_proposal_is_not_invited(app, db):
    proposal = submitted_proposal()

    with pytest.raises(IllegalTransition, match="Only a concept note"):
        screen_proposal(db.session, make_officer(), proposal, ScreeningOutcome.INVITE, ALL_TICKED)


def test_declining_a_concept_note_needs_a_reason_and_mails_it(app, db):
    concept = submitted_proposal(call=two_stage_call())

    with pytest.raises(DomainError, match="Give the reason"):
        screen_proposal(db.session, make_officer(), concept, ScreeningOutcome.DECLINE, {}, "")
    screen_proposal(db.session, make_officer(), concept, ScreeningOutcome.DECLINE, {}, "Outside the themes.")

    assert concept.state == ProposalState.DECLINED
    (message,) = outbox(db)
    assert "Outside the themes." in message.body_text
    assert full_proposal_of(db.session, concept) is None


def test_invited_concept_note_gets_a_full_proposal_draft_with_its_content(app, db):
    call = two_stage_call()
    concept = make_proposal(call=call, state=ProposalState.SUBMITTED, complete=True, submitted_at=utcnow())
    make_version(concept)
    officer = make_officer()

    screen_proposal(db.session, officer, concept, ScreeningOutcome.INVITE, ALL_TICKED)

    assert concept.state == ProposalState.INVITED
    full = full_proposal_of(db.session, concept)
    assert (full.stage, full.state, full.concept_id) == (ProposalStage.FULL, ProposalState.DRAFT, concept.id)
    assert (full.call_id, full.organisation_id, full.title, full.theme) == (
        concept.call_id,
        concept.organisation_id,
        concept.title,
        concept.theme,
    )
    assert full.reference.startswith("PRP-") and full.reference != concept.reference
    assert {s.key: s.content for s in full.sections} == {s.key: s.content for s in concept.sections}
    assert {(t.kind, t.code) for t in full.tags} == {(t.kind, t.code) for t in concept.tags}
    assert full.requested_minor == concept.requested_minor > 0


def test_invitation_mail_gives_the_full_proposal_deadline(app, db):
    call = two_stage_call()
    concept = submitted_proposal(call=call)

    screen_proposal(db.session, make_officer(), concept, ScreeningOutcome.INVITE, {})

    (message,) = outbox(db)
    full = full_proposal_of(db.session, concept)
    assert "invited" in message.subject
    assert full.reference in message.body_text
    assert local_datetime(call.full_proposal_closes_at) in message.body_text


def test_suggested_checklist_reads_the_proposal_against_the_call(app, db):
    call = make_call(cofinancing_min_percent=20, required_attachments=["registration_certificate"])
    proposal = make_proposal(call=call, complete=True, state=ProposalState.SUBMITTED)

    suggested = suggested_checklist(db.session, proposal)

    assert suggested["eligible_org_type"] is True
    assert suggested["within_themes"] is True
    assert suggested["within_grant_range"] is (
        call.grant_min_minor <= proposal.requested_minor <= call.grant_max_minor
    )
    assert suggested["attachments_present"] is False  # nothing attached
    assert suggested["no_duplicate"] is True


def test_suggested_checklist_spots_a_duplicate_title_of_the_same_organisation(app, db):
    first = submitted_proposal()
    second = submitted_proposal(organisation=first.organisation, title=first.title.upper())

    assert suggested_checklist(db.session, second)["no_duplicate"] is False


# -- the officer's list -------------------------------------------------------------------------------------


def test_list_leaves_out_drafts_unless_asked_for(app, db):
    submitted = submitted_proposal()
    draft = make_proposal()

    assert proposal_page(db.session, ProposalFilters()).proposals == [submitted]
    assert proposal_page(db.session, ProposalFilters(state=ProposalState.DRAFT)).proposals == [draft]


def test_list_filters_by_call_state_theme_region_and_red_list(app, db):
    call = make_call()
    other_call = make_call(themes=["wetlands", "forests"])
    in_call = submitted_proposal(call=call)
    wetland = submitted_proposal(call=other_call, theme="wetlands")
    ineligible = submitted_proposal(call=call, state=ProposalState.INELIGIBLE)
    in_call.tags.append(ProposalTag(kind="region", code="KZ-61"))
    wetland.tags.append(ProposalTag(kind="red_list", code="CR"))
    db.session.flush()

    def listed(**filters):
        return {p.reference for p in proposal_page(db.session, ProposalFilters(**filters)).proposals}

    assert listed(call_id=call.id) == {in_call.reference, ineligible.reference}
    assert listed(state=ProposalState.INELIGIBLE) == {ineligible.reference}
    assert listed(theme="wetlands") == {wetland.reference}
    assert listed(region="KZ-61") == {in_call.reference}
    assert listed(red_list="CR") == {wetland.reference}
    assert listed(call_id=call.id, region="KZ-61", state=ProposalState.SUBMITTED) == {in_call.reference}


def test_filters_are_read_from_the_query_string_ignoring_nonsense(app, db):
    filters = ProposalFilters.from_args(
        {"call": "12", "state": "bogus", "region": " KZ-47 ", "theme": "", "red_list": "EN"}
    )

    assert filters == ProposalFilters(call_id=12, state=None, region="KZ-47", theme=None, red_list="EN")
    assert filters.as_args() == {"call": 12, "region": "KZ-47", "red_list": "EN"}
    assert ProposalFilters.from_args({"call": "1; drop table"}).call_id is None


def test_list_pages_fifty_at_a_time(app, db):
    call = make_call()
    for _ in range(53):
        make_proposal(call=call, state=ProposalState.SUBMITTED, submitted_at=utcnow())

    first = proposal_page(db.session, ProposalFilters(), page=1)
    second = proposal_page(db.session, ProposalFilters(), page=2)

    assert (len(first.proposals), len(second.proposals), first.total, first.pages) == (50, 3, 53, 2)
    assert first.has_next and not second.has_next
    assert not {p.id for p in first.proposals} & {p.id for p in second.proposals}


# -- exports ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+7 700", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_could_start_a_formula_is_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Saiga", "", " =spaced", 5, None])
def test_other_values_are_left_alone(value):
    assert neutralise(value) == value


def test_export_rows_hold_plain_values_with_amounts_in_major_units(app, db):
    proposal = submitted_proposal(title="=cmd|' /C calc'!A0", requested_minor=1_234_567_89)

    (row,) = list(export_rows(db.session, ProposalFilters()))

    assert row[0] == proposal.reference
    assert row[1] == "'=cmd|' /C calc'!A0"
    assert row[2] == proposal.organisation.name_en
    assert row[4] == proposal.call.reference
    assert (row[6], row[8], row[10]) == ("submitted", Decimal("1234567.89"), "KZT")


def test_csv_export_is_streamed_with_a_header_and_neutralised_cells(app, db):
    submitted_proposal(title="@evil")
    submitted_proposal(title="Seal haul-outs")

    chunks = list(csv_chunks(db.session, ProposalFilters(), rows_per_chunk=1))
    rows = list(csv.reader(io.StringIO("".join(chunks).lstrip("\ufeff"))))

    assert len(chunks) >= 3  # header, then one chunk per row
    assert rows[0][:3] == ["Reference", "Title", "Organisation"]
    assert sorted(row[1] for row in rows[1:]) == ["'@evil", "Seal haul-outs"]


def test_xlsx_export_holds_every_matching_row_with_neutralised_cells(app, db):
    call = make_call()
    submitted_proposal(call=call, title="=1+1")
    submitted_proposal(title="Elsewhere")

    workbook = load_workbook(io.BytesIO(xlsx_bytes(db.session, ProposalFilters(call_id=call.id))))
    rows = list(workbook.active.iter_rows(values_only=True))

    assert rows[0][0] == "Reference"
    assert len(rows) == 2
    assert rows[1][1] == "'=1+1"
    assert workbook.active["B2"].data_type == "s"  # text, not a formula


# -- versions and differences -------------------------------------------------------------------------------


SNAPSHOT_V1 = {
    "title": "Seal haul-outs",
    "theme": {"code": "marine_mammals", "label": "Marine mammals (Caspian seal)"},
    "totals": {"requested": {"minor": 100, "currency": "KZT", "text": "KZT 1.00"}},
    "sections": [
        {
            "key": "summary",
            "title": "Summary",
            "content": {"summary": "Protect seals."},
            "blocks": [{"type": "text", "label": "Summary", "value": "Protect seals.\nWith rangers."}],
        },
        {
            "key": "species",
            "title": "Species",
            "content": {},
            "blocks": [
                {
                    "type": "table",
                    "label": "Species",
                    "columns": ["Scientific name", "IUCN Red List"],
                    "rows": [["Pusa caspica", "EN Endangered"]],
                }
            ],
        },
        {
            "key": "threats",
            "title": "Threats and actions",
            "content": {},
            "blocks": [{"type": "list", "label": "Threats", "items": ["5.4 Fishing"]}],
        },
    ],
    "attachments": [{"id": 3, "kind": "registration_certificate", "name": "cert.pdf", "sha256": "b" * 64}],
}


def test_snapshot_reads_as_section_and_field_lines(app, db):
    lines = snapshot_lines(SNAPSHOT_V1)

    assert lines == [
        "Title: Seal haul-outs",
        "Theme: Marine mammals (Caspian seal)",
        "Budget totals › Requested: KZT 1.00",
        "Summary › Summary: Protect seals.",
        "Summary › Summary (…): With rangers.",
        "Species › Species › 1 › Scientific name: Pusa caspica",
        "Species › Species › 1 › IUCN Red List: EN Endangered",
        "Threats and actions › Threats: 5.4 Fishing",
        "Attachments › Registration certificate: cert.pdf (SHA-256 bbbbbbbbbbbb…)",
    ]


def test_minimal_snapshot_without_sections_still_reads(app, db):
    assert snapshot_lines({"title": "T", "budget": {"lines": [{"unit": "month"}]}}) == [
        "Title: T",
        "Budget › Lines › 1 › Unit: month",
    ]


def test_diff_shows_changed_added_and_removed_lines(app, db):
    v2 = copy.deepcopy(SNAPSHOT_V1)
    v2["sections"][0]["blocks"][0]["value"] = "Protect seals.\nWith twelve rangers."
    v2["sections"][2]["blocks"][0]["items"].append("5.1 Hunting")

    hunks = version_diff(SNAPSHOT_V1, v2, context=0)
    changes = [(row.kind, row.old, row.new) for hunk in hunks for row in hunk]

    assert changes == [
        ("replace", "Summary › Summary (…): With rangers.", "Summary › Summary (…): With twelve rangers."),
        ("insert", None, "Threats and actions › Threats: 5.1 Hunting"),
    ]


def test_same_versions_have_no_diff(app, db):
    assert version_diff(SNAPSHOT_V1, SNAPSHOT_V1) == []


def test_proposal_count_is_unchanged_by_screening(app, db):
    proposal = submitted_proposal()
    before = db.session.scalar(select(func.count(Proposal.id)))

    screen_proposal(db.session, make_officer(), proposal, "eligible", ALL_TICKED)

    assert db.session.scalar(select(func.count(Proposal.id))) == before


def test_closed_call_proposals_are_still_screened(app, db):
    call = make_call()
    proposal = submitted_proposal(call=call)
    call.state = CallState.CLOSED

    screen_proposal(db.session, make_officer(), proposal, "eligible", ALL_TICKED)

    assert proposal.state == ProposalState.ELIGIBLE
