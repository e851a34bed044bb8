"""Submission rules, submitting, resubmitting and withdrawing, tested on the operations."""

import hashlib
import io
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from fundapp.applications.models import (
    CallState,
    ProposalStage,
    ProposalState,
    ProposalVersion,
)
from fundapp.applications.submission import (
    add_attachment,
    minimum_cofinancing_minor,
    submission_problems,
    submit_proposal,
    withdraw_proposal,
)
from fundapp.applications.workflow import PROPOSAL_WORKFLOW
from fundapp.core.audit import AuditEvent
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.mail import OutboxMessage
from fundapp.core.storage import StoredFile, stored_bytes
from fundapp.core.workflow import transition
from tests.applications.factories import (
    make_call,
    make_member_proposal,
    make_officer,
    make_outsider,
    make_proposal,
)
from tests.core.sample_files import MINIMAL_PDF
from tests.factories import make_user


def pdf_text(data):
    return subprocess.run(
        ["/usr/bin/pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def attach_certificate(proposal, user, db):
    upload = FileStorage(stream=io.BytesIO(MINIMAL_PDF), filename="certificate.pdf")
    return add_attachment(db.session, user, proposal, "registration_certificate", upload)


def ready_proposal(db, **proposal_fields):
    """A complete proposal with the required attachment, in an open call: ``(proposal, member)``."""
    proposal, user = make_member_proposal(complete=True, **proposal_fields)
    attach_certificate(proposal, user, db)
    return proposal, user


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


# -- the rules ------------------------------------------------------------------------------------------


def test_complete_proposal_in_an_open_call_has_nothing_missing(db):
    proposal, _user = ready_proposal(db)

    assert submission_problems(proposal) == []


def test_submission_one_second_before_the_deadline_is_accepted(db):
    proposal, _user = ready_proposal(db)

    assert submission_problems(proposal, now=proposal.call.closes_at - timedelta(seconds=1)) == []


def test_submission_at_the_closing_instant_is_refused(db):
    proposal, _user = ready_proposal(db)

    problems = submission_problems(proposal, now=proposal.call.closes_at)

    assert len(problems) == 1
    assert "deadline" in problems[0] and "has passed" in problems[0]


def test_submission_one_second_late_is_refused(db):
    proposal, _user = ready_proposal(db)

    problems = submission_problems(proposal, now=proposal.call.closes_at + timedelta(seconds=1))

    assert problems == [problems[0]]
    assert "The deadline of the call" in problems[0]
    assert "(Asia/Almaty)" in problems[0]


def test_late_submission_is_refused_by_the_operation_and_changes_nothing(db, mail):
    proposal, user = ready_proposal(db)
    files, messages = count(db, StoredFile), count(db, OutboxMessage)

    with pytest.raises(DomainError, match="deadline"):
        submit_proposal(db.session, user, proposal, now=proposal.call.closes_at + timedelta(seconds=1))

    assert proposal.state == ProposalState.DRAFT
    assert proposal.submitted_at is None
    assert proposal.versions == []
    assert count(db, StoredFile) == files
    assert count(db, OutboxMessage) == messages


def test_call_that_is_not_yet_open_refuses_submissions(db):
    proposal, _user = ready_proposal(db)

    problems = submission_problems(proposal, now=proposal.call.opens_at - timedelta(seconds=1))

    assert len(problems) == 1
    assert "is not open yet" in problems[0]


@pytest.mark.parametrize(
    ("state", "phrase"),
    [
        (CallState.DRAFT, "has not been published"),
        (CallState.CANCELLED, "was cancelled"),
        (CallState.CLOSED, "is closed"),
    ],
)
def test_call_that_is_not_open_refuses_submissions(db, state, phrase):
    proposal, _user = ready_proposal(db)
    proposal.call.state = state

    problems = submission_problems(proposal)

    assert len(problems) == 1
    assert phrase in problems[0]
    assert proposal.call.title in problems[0]


def test_incomplete_proposal_lists_what_is_missing(db):
    proposal, user = make_member_proposal(complete=False)
    attach_certificate(proposal, user, db)

    problems = submission_problems(proposal)

    from fundapp.applications.sections import missing_items

    missing = missing_items(proposal)
    assert missing
    assert all(item in problems for item in missing)


def test_amount_below_the_call_minimum_is_refused(db):
    proposal, _user = ready_proposal(db)
    proposal.call.grant_min_minor = proposal.requested_minor + 1

    problems = submission_problems(proposal)

    assert len(problems) == 1
    assert "below the call's minimum grant" in problems[0]
    assert proposal.call.grant_min.format("en") in problems[0]


def test_amount_above_the_call_maximum_is_refused(db):
    proposal, _user = ready_proposal(db)
    proposal.call.grant_min_minor = 1
    proposal.call.grant_max_minor = proposal.requested_minor - 1

    problems = submission_problems(proposal)

    assert len(problems) == 1
    assert "above the call's maximum grant" in problems[0]
    assert proposal.requested.format("en") in problems[0]


def test_amount_equal_to_the_call_limits_is_accepted(db):
    proposal, _user = ready_proposal(db)
    proposal.call.grant_min_minor = proposal.requested_minor
    proposal.call.grant_max_minor = proposal.requested_minor

    assert submission_problems(proposal) == []


def test_cofinancing_below_the_call_share_is_refused(db):
    proposal, _user = ready_proposal(db)
    proposal.call.cofinancing_min_percent = 50

    problems = submission_problems(proposal)

    assert len(problems) == 1
    assert "the call requires at least 50%" in problems[0]
    needed = minimum_cofinancing_minor(proposal.requested_minor, 50)
    assert needed == proposal.requested_minor
    assert proposal.cofinancing.format("en") in problems[0]


@pytest.mark.parametrize(
    ("requested", "cofinancing", "percent", "refused"),
    [
        (75_00, 25_00, 25, False),  # exactly 25 %
        (75_01, 25_00, 25, True),  # a hair under 25 %
        (2, 1, 33, False),  # 33.3 %, no float rounding involved
        (1, 0, 1, True),
        (10_000_000_000_00, 0, 0, False),  # no rule, no refusal
    ],
)
def test_cofinancing_share_is_checked_in_exact_integers(db, requested, cofinancing, percent, refused):
    proposal, _user = ready_proposal(db)
    proposal.call.cofinancing_min_percent = percent
    proposal.requested_minor, proposal.cofinancing_minor = requested, cofinancing

    problems = [p for p in submission_problems(proposal) if "Co-financing" in p]

    assert bool(problems) is refused


def test_least_cofinancing_that_meets_the_share_is_rounded_up():
    # 25 % of (75.01 + c) <= c  <=>  c >= 25.0033..., so 25.01
    assert minimum_cofinancing_minor(75_01, 25) == 25_01
    assert minimum_cofinancing_minor(75_00, 25) == 25_00
    assert minimum_cofinancing_minor(123, 0) == 0


def test_missing_required_attachment_is_refused(db):
    proposal, _user = make_member_proposal(complete=True)

    problems = submission_problems(proposal)

    assert problems == ["Attach the registration certificate: the call requires it."]


def test_each_missing_required_attachment_is_listed(db):
    call = make_call(
        required_attachments=["registration_certificate", "budget_workbook", "letter_of_support"]
    )
    proposal, user = make_member_proposal(call=call, complete=True)
    attach_certificate(proposal, user, db)

    problems = submission_problems(proposal)

    assert problems == [
        "Attach the budget workbook: the call requires it.",
        "Attach the letter of support: the call requires it.",
    ]


def test_second_proposal_of_an_organisation_in_a_one_stage_call_is_refused(db):
    first, user = ready_proposal(db)
    submit_proposal(db.session, user, first)
    # The database allows one proposal per call, organisation and stage; a proposal of the other stage
    # is the only way a second one can exist, and it must not be submitted either.
    second = make_proposal(
        call=first.call,
        organisation=first.organisation,
        stage=ProposalStage.CONCEPT,
        complete=True,
        created_by=user,
    )
    attach_certificate(second, user, db)

    problems = submission_problems(second)

    assert len(problems) == 1
    assert f"has already submitted {first.reference} to this call" in problems[0]


def test_withdrawn_proposal_does_not_block_another_one(db):
    first, user = ready_proposal(db)
    first.state = ProposalState.WITHDRAWN
    second = make_proposal(
        call=first.call,
        organisation=first.organisation,
        stage=ProposalStage.CONCEPT,
        complete=True,
        created_by=user,
    )
    attach_certificate(second, user, db)

    assert submission_problems(second) == []


def _two_stage_call(**fields):
    now = utcnow()
    return make_call(
        stages=2,
        opens_at=now - timedelta(days=40),
        closes_at=now - timedelta(days=10),
        full_proposal_closes_at=now + timedelta(days=20),
        **fields,
    )


def test_invited_full_proposal_is_accepted_after_the_concept_deadline(db):
    call = _two_stage_call()
    call.state = CallState.CLOSED  # closed for concept notes by the scheduled job
    concept, user = make_member_proposal(call=call, state=ProposalState.INVITED, complete=True)
    full = make_proposal(
        call=call,
        organisation=concept.organisation,
        stage=ProposalStage.FULL,
        concept_id=concept.id,
        complete=True,
        created_by=user,
    )
    attach_certificate(full, user, db)

    assert submission_problems(full) == []
    assert submission_problems(full, now=call.full_proposal_closes_at - timedelta(seconds=1)) == []
    assert "has passed" in submission_problems(full, now=call.full_proposal_closes_at)[0]


def test_full_proposal_without_an_invitation_is_refused(db):
    call = _two_stage_call()
    concept, user = make_member_proposal(call=call, state=ProposalState.DECLINED, complete=True)
    full = make_proposal(
        call=call, organisation=concept.organisation, stage=ProposalStage.FULL, complete=True, created_by=user
    )
    attach_certificate(full, user, db)

    problems = submission_problems(full)

    assert len(problems) == 1
    assert "only from organisations invited" in problems[0]


def test_concept_note_after_the_concept_deadline_is_refused(db):
    call = _two_stage_call()
    concept, user = make_member_proposal(call=call, complete=True)
    attach_certificate(concept, user, db)

    problems = submission_problems(concept)

    assert "has passed" in problems[0]


# -- submitting -----------------------------------------------------------------------------------------


def test_submission_creates_version_1_with_its_pdf_and_sha256(db):
    proposal, user = ready_proposal(db, title="Saiga calving grounds of Betpak-Dala")

    version = submit_proposal(db.session, user, proposal)

    assert version.number == 1
    assert proposal.versions == [version]
    pdf = stored_bytes(version.pdf_file)
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).hexdigest() == version.pdf_sha256 == version.pdf_file.sha256
    assert version.pdf_file.content_type == "application/pdf"
    assert version.pdf_file.original_name == f"{proposal.reference}-v1.pdf"
    text = " ".join(pdf_text(pdf).split())
    assert "Saiga calving grounds of Betpak-Dala" in text
    assert proposal.reference in text
    assert "certificate.pdf" in text


def test_submission_freezes_the_content_in_the_version(db):
    proposal, user = ready_proposal(db)

    version = submit_proposal(db.session, user, proposal)

    assert version.snapshot["reference"] == proposal.reference
    assert {s["key"] for s in version.snapshot["sections"]} >= {"summary", "budget"}
    assert [a["name"] for a in version.snapshot["attachments"]] == ["certificate.pdf"]
    assert version.submitted_by_id == user.id


def test_submission_moves_the_proposal_to_submitted_and_records_the_time(db):
    proposal, user = ready_proposal(db)
    moment = utcnow().replace(microsecond=0)

    version = submit_proposal(db.session, user, proposal, now=moment)

    assert proposal.state == ProposalState.SUBMITTED
    assert proposal.submitted_at == moment == version.submitted_at
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity_type == "Proposal", AuditEvent.entity_id == str(proposal.id)
        )
    ).all()
    assert "proposal.submitted" in actions
    assert "proposal.version_frozen" in actions


def test_confirmation_is_mailed_after_commit_with_reference_time_and_sha256(db, mail):
    proposal, user = ready_proposal(db)

    version = submit_proposal(db.session, user, proposal)
    assert mail == []  # nothing leaves before the change is committed
    db.session.commit()

    to_user = [m for m in mail if m["to_address"] == user.email]
    assert len(to_user) == 1
    assert proposal.reference in to_user[0]["subject"]
    body = to_user[0]["body_text"]
    assert proposal.reference in body
    assert version.pdf_sha256 in body
    assert "(Asia/Almaty)" in body


def test_other_members_of_the_organisation_get_a_copy(db, mail):
    proposal, user = ready_proposal(db)
    colleague = make_user()
    from fundapp.accounts.models import Membership

    proposal.organisation.memberships.append(Membership(user=colleague, is_manager=False))
    db.session.flush()

    submit_proposal(db.session, user, proposal)
    db.session.commit()

    assert sorted(m["to_address"] for m in mail) == sorted([user.email, colleague.email])


def test_submitted_proposal_is_frozen(db):
    from fundapp.applications.operations import save_section
    from tests.applications.factories import complete_content

    proposal, user = ready_proposal(db)
    submit_proposal(db.session, user, proposal)
    section = proposal.section("summary")

    assert not proposal.can_edit(user)
    with pytest.raises(DomainError, match="submitted"):
        save_section(db.session, user, proposal, "summary", complete_content("summary"), section.version)
    with pytest.raises(DomainError, match="can no longer be changed"):
        attach_certificate(proposal, user, db)


def test_submitting_twice_is_refused(db):
    proposal, user = ready_proposal(db)
    submit_proposal(db.session, user, proposal)

    with pytest.raises(DomainError, match="cannot be submitted again"):
        submit_proposal(db.session, user, proposal)

    assert len(proposal.versions) == 1


@pytest.mark.parametrize("who", ["outsider", "officer"])
def test_only_members_can_submit(db, who):
    proposal, _user = ready_proposal(db)
    person = make_outsider() if who == "outsider" else make_officer()

    with pytest.raises(DomainError):
        submit_proposal(db.session, person, proposal)

    assert proposal.state == ProposalState.DRAFT
    assert proposal.versions == []


def test_resubmission_after_more_information_creates_version_2(db, mail):
    proposal, user = ready_proposal(db)
    first = submit_proposal(db.session, user, proposal)
    transition(
        db.session,
        PROPOSAL_WORKFLOW,
        proposal,
        ProposalState.MORE_INFO_REQUESTED,
        make_officer(),
        reason="Add a letter of support from the akimat.",
    )
    assert proposal.can_edit(user)
    add_attachment(
        db.session,
        user,
        proposal,
        "letter_of_support",
        FileStorage(stream=io.BytesIO(MINIMAL_PDF), filename="akimat.pdf"),
    )

    second = submit_proposal(db.session, user, proposal)
    db.session.commit()

    assert second.number == 2
    assert [v.number for v in proposal.versions] == [1, 2]
    assert proposal.state == ProposalState.SUBMITTED
    assert first.pdf_sha256 != second.pdf_sha256
    assert stored_bytes(first.pdf_file) != stored_bytes(second.pdf_file)
    assert [a["name"] for a in second.snapshot["attachments"]] == ["certificate.pdf", "akimat.pdf"]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ProposalVersion)
            .where(ProposalVersion.proposal_id == proposal.id)
        )
        == 2
    )
    assert any(second.pdf_sha256 in m["body_text"] for m in mail)


# -- withdrawing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [ProposalState.DRAFT, ProposalState.SUBMITTED, ProposalState.ELIGIBLE, ProposalState.ON_AGENDA]
)
def test_withdrawal_before_a_decision_is_allowed(db, mail, state):
    proposal, user = make_member_proposal(state=state)

    withdraw_proposal(db.session, user, proposal, "  The partner organisation pulled out.  ")
    db.session.commit()

    assert proposal.state == ProposalState.WITHDRAWN
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "proposal.withdrawn").order_by(AuditEvent.id.desc())
    )
    assert event.entity_id == str(proposal.id)
    assert event.before == {"state": state.value}
    assert event.after["reason"] == "The partner organisation pulled out."
    assert [m["to_address"] for m in mail] == [user.email]
    assert "The partner organisation pulled out." in mail[0]["body_text"]


def test_withdrawal_without_a_reason_is_allowed(db):
    proposal, user = make_member_proposal(state=ProposalState.SUBMITTED)

    withdraw_proposal(db.session, user, proposal, "")

    assert proposal.state == ProposalState.WITHDRAWN


@pytest.mark.parametrize(
    "state",
    [ProposalState.INELIGIBLE, ProposalState.DECLINED, ProposalState.APPROVED, ProposalState.REJECTED],
)
def test_withdrawal_after_a_decision_is_refused(db, mail, state):
    proposal, user = make_member_proposal(state=state)

    with pytest.raises(DomainError, match="can no longer be withdrawn"):
        withdraw_proposal(db.session, user, proposal, "Too late")

    assert proposal.state == state
    assert count(db, OutboxMessage) == 0


def test_withdrawing_twice_is_refused(db):
    proposal, user = make_member_proposal(state=ProposalState.SUBMITTED)
    withdraw_proposal(db.session, user, proposal, "")

    with pytest.raises(DomainError, match="already been withdrawn"):
        withdraw_proposal(db.session, user, proposal, "")


def test_outsider_cannot_withdraw(db):
    proposal, _user = make_member_proposal(state=ProposalState.SUBMITTED)

    with pytest.raises(DomainError, match="Only members of"):
        withdraw_proposal(db.session, make_outsider(), proposal, "")

    assert proposal.state == ProposalState.SUBMITTED


def test_overlong_withdrawal_reason_is_refused(db):
    proposal, user = make_member_proposal(state=ProposalState.SUBMITTED)

    with pytest.raises(DomainError, match="under 2000 characters") as refused:
        withdraw_proposal(db.session, user, proposal, "x" * 2001)

    assert refused.value.field == "reason"
    assert proposal.state == ProposalState.SUBMITTED
