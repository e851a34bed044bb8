"""Calls for proposals and the proposals organisations write to them.

A proposal's content lives in sections (``ProposalSection``), each a JSON document with its own version
number, so a team can work on different sections at once and two people saving the same section never
overwrite each other silently (the second save is kept as a ``SectionConflict`` to merge). The facts the
officers filter on (regions, themes, Red List categories, ...) are copied into ``ProposalTag`` rows and the
budget totals into columns of ``Proposal`` whenever a section is saved.
"""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.accounts.models import _enum
from fundapp.core.db import UTCDateTime, utcnow
from fundapp.core.money import Money
from fundapp.extensions import db


class CallState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return CALL_STATE_LABELS[self]


CALL_STATE_LABELS = {
    CallState.DRAFT: _l("Draft"),
    CallState.PUBLISHED: _l("Published"),
    CallState.CLOSED: _l("Closed"),
    CallState.CANCELLED: _l("Cancelled"),
}


class AttachmentKind(StrEnum):
    REGISTRATION_CERTIFICATE = "registration_certificate"
    BUDGET_WORKBOOK = "budget_workbook"
    LETTER_OF_SUPPORT = "letter_of_support"
    MAP = "map"
    PHOTO = "photo"
    OTHER = "other"

    @property
    def label(self):
        return ATTACHMENT_KIND_LABELS[self]


ATTACHMENT_KIND_LABELS = {
    AttachmentKind.REGISTRATION_CERTIFICATE: _l("Registration certificate"),
    AttachmentKind.BUDGET_WORKBOOK: _l("Budget workbook"),
    AttachmentKind.LETTER_OF_SUPPORT: _l("Letter of support"),
    AttachmentKind.MAP: _l("Map of the sites"),
    AttachmentKind.PHOTO: _l("Photo"),
    AttachmentKind.OTHER: _l("Other document"),
}


class Call(db.Model):
    __tablename__ = "call"
    __table_args__ = (
        CheckConstraint("grant_min_minor > 0", name="grant_min_positive"),
        CheckConstraint("grant_max_minor >= grant_min_minor", name="grant_max_not_below_min"),
        CheckConstraint("envelope_minor >= grant_max_minor", name="envelope_holds_one_grant"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("stages IN (1, 2)", name="one_or_two_stages"),
        CheckConstraint("cofinancing_min_percent BETWEEN 0 AND 100", name="cofinancing_percent_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The call's public reference, e.g. CALL-2026-01.
    reference: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    #: Rich text, sanitised on the way in (nh3), shown as it is.
    description_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    state: Mapped[CallState] = mapped_column(
        _enum(CallState, "call_state"), nullable=False, default=CallState.DRAFT
    )
    #: Codes of the THEME reference vocabulary the call funds.
    themes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: OrganisationType values that may apply.
    eligible_org_types: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    grant_min_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    grant_max_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: The total the call may commit to grants.
    envelope_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: Submissions are accepted strictly before this instant (of the first stage in a two-stage call).
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: 1: full proposals; 2: concept notes first, then full proposals from invited organisations.
    stages: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    #: Deadline of invited full proposals in a two-stage call.
    full_proposal_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Share of the total project cost the applicant must bring from other sources (0 = none required).
    cofinancing_min_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: AttachmentKind values every submission must include.
    required_attachments: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    questions: Mapped[list["EligibilityQuestion"]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="EligibilityQuestion.position"
    )

    @property
    def grant_min(self):
        return Money(self.grant_min_minor, self.currency)

    @property
    def grant_max(self):
        return Money(self.grant_max_minor, self.currency)

    @property
    def envelope(self):
        return Money(self.envelope_minor, self.currency)

    @property
    def is_two_stage(self):
        return self.stages == 2

    def is_open(self, now=None):
        """Published, and ``now`` (default: this instant) is at or after opening and before closing."""
        now = now or utcnow()
        return self.state == CallState.PUBLISHED and self.opens_at <= now < self.closes_at

    def is_visible_to_public(self):
        return self.state in (CallState.PUBLISHED, CallState.CLOSED)

    def __repr__(self):
        return f"<Call {self.reference}>"


class EligibilityQuestion(db.Model):
    __tablename__ = "eligibility_question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    text: Mapped[str] = mapped_column(String(500), nullable=False)
    #: The answer that makes an applicant ineligible: True (yes), False (no) or None (neither).
    disqualifying_answer: Mapped[bool | None] = mapped_column(Boolean)
    #: Shown to an applicant whose answer disqualifies them.
    explanation: Mapped[str] = mapped_column(String(500), nullable=False, default="")

    call: Mapped[Call] = relationship(back_populates="questions")


class ProposalStage(StrEnum):
    CONCEPT = "concept"
    FULL = "full"


class ProposalState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_INFO_REQUESTED = "more_info_requested"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    INVITED = "invited"  # concept note: invited to a full proposal
    DECLINED = "declined"  # concept note: not invited
    IN_REVIEW = "in_review"
    REVIEWED = "reviewed"
    ON_AGENDA = "on_agenda"
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    WITHDRAWN = "withdrawn"

    @property
    def label(self):
        return PROPOSAL_STATE_LABELS[self]


PROPOSAL_STATE_LABELS = {
    ProposalState.DRAFT: _l("Draft"),
    ProposalState.SUBMITTED: _l("Submitted"),
    ProposalState.MORE_INFO_REQUESTED: _l("More information requested"),
    ProposalState.ELIGIBLE: _l("Eligible"),
    ProposalState.INELIGIBLE: _l("Ineligible"),
    ProposalState.INVITED: _l("Invited to a full proposal"),
    ProposalState.DECLINED: _l("Not invited"),
    ProposalState.IN_REVIEW: _l("In review"),
    ProposalState.REVIEWED: _l("Reviewed"),
    ProposalState.ON_AGENDA: _l("On the board agenda"),
    ProposalState.APPROVED: _l("Approved"),
    ProposalState.APPROVED_WITH_CONDITIONS: _l("Approved with conditions"),
    ProposalState.REJECTED: _l("Rejected"),
    ProposalState.DEFERRED: _l("Deferred"),
    ProposalState.WITHDRAWN: _l("Withdrawn"),
}

#: States in which the applicant's team may edit the content.
EDITABLE_STATES = frozenset({ProposalState.DRAFT, ProposalState.MORE_INFO_REQUESTED})
#: States after a decision: withdrawal is no longer possible.
DECIDED_STATES = frozenset(
    {
        ProposalState.INELIGIBLE,
        ProposalState.DECLINED,
        ProposalState.APPROVED,
        ProposalState.APPROVED_WITH_CONDITIONS,
        ProposalState.REJECTED,
        ProposalState.WITHDRAWN,
    }
)


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        UniqueConstraint("call_id", "organisation_id", "stage", name="uq_proposal_call_org_stage"),
        CheckConstraint("requested_minor >= 0", name="requested_not_negative"),
        CheckConstraint("cofinancing_minor >= 0", name="cofinancing_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Public reference, e.g. PRP-2026-0001.
    reference: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False, index=True)
    stage: Mapped[ProposalStage] = mapped_column(
        _enum(ProposalStage, "proposal_stage"), nullable=False, default=ProposalStage.FULL
    )
    #: The concept note a full proposal grew from (two-stage calls).
    concept_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"))
    state: Mapped[ProposalState] = mapped_column(
        _enum(ProposalState, "proposal_state"), nullable=False, default=ProposalState.DRAFT, index=True
    )
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    #: Code of the THEME vocabulary, one of the call's themes.
    theme: Mapped[str | None] = mapped_column(String(40), index=True)
    #: Answers to the call's eligibility questions: {question id: true/false}.
    eligibility_answers: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    #: Computed from the budget section on every save: the amount asked of the fund.
    requested_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    #: Computed from the budget section: what other sources bring.
    cofinancing_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    call: Mapped[Call] = relationship()
    organisation = relationship("Organisation")
    created_by = relationship("User", foreign_keys=[created_by_id])
    concept: Mapped["Proposal | None"] = relationship(remote_side=[id])
    sections: Mapped[list["ProposalSection"]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["ProposalAttachment"]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalAttachment.id"
    )
    versions: Mapped[list["ProposalVersion"]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalVersion.number"
    )
    tags: Mapped[list["ProposalTag"]] = relationship(back_populates="proposal", cascade="all, delete-orphan")

    @property
    def requested(self):
        return Money(self.requested_minor, self.currency)

    @property
    def cofinancing(self):
        return Money(self.cofinancing_minor, self.currency)

    @property
    def total_cost(self):
        return self.requested + self.cofinancing

    def section(self, key):
        return next((s for s in self.sections if s.key == key), None)

    # -- permissions: shared by views and templates -------------------------------------------------

    def is_member(self, user):
        return self.organisation.is_member(user)

    def can_view(self, user):
        from fundapp.core.permissions import Role

        # The role first: it is on the user already, membership needs the organisation's members.
        return user.is_authenticated and (
            user.has_role(Role.PROGRAMME_OFFICER, Role.ADMIN)
            or self.is_member(user)
            or (self.is_reviewed_by(user) and not self.is_blind_review())
        )

    def is_blind_review(self):
        """The call's reviews are blind: reviewers must not see the applicant (only their review page)."""
        from fundapp.reviews.models import Rubric

        return bool(db.session.scalar(select(Rubric.blind).where(Rubric.call_id == self.call_id)))

    def is_reviewed_by(self, user):
        """The user reviews this proposal: assigned, and has declared no conflict of interest."""
        from fundapp.core.permissions import Role
        from fundapp.reviews.models import Assignment, AssignmentState

        if not (user.is_authenticated and user.has_role(Role.REVIEWER)):
            return False
        return (
            db.session.scalar(
                select(Assignment.id).where(
                    Assignment.proposal_id == self.id,
                    Assignment.reviewer_id == user.id,
                    Assignment.state.in_([AssignmentState.ACCEPTED, AssignmentState.SUBMITTED]),
                )
            )
            is not None
        )

    def can_edit(self, user):
        return self.state in EDITABLE_STATES and self.is_member(user)

    def can_withdraw(self, user):
        return self.is_member(user) and self.state not in DECIDED_STATES

    def can_screen(self, user):
        from fundapp.core.permissions import Role

        return (
            user.is_authenticated
            and user.has_role(Role.PROGRAMME_OFFICER)
            and self.state == ProposalState.SUBMITTED
        )

    def __repr__(self):
        return f"<Proposal {self.reference} {self.state}>"


class ProposalSection(db.Model):
    __tablename__ = "proposal_section"
    __table_args__ = (UniqueConstraint("proposal_id", "key", name="uq_proposal_section_proposal_id_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False)
    #: Which section: a key of fundapp.applications.sections.SECTIONS.
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    content: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    #: Raised by one at every save; a save based on an older version is a conflict.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="sections")
    updated_by = relationship("User")
    conflicts: Mapped[list["SectionConflict"]] = relationship(
        back_populates="section", cascade="all, delete-orphan", order_by="SectionConflict.id"
    )


class SectionConflict(db.Model):
    """A save refused because someone else saved the section first: kept, so its author can merge."""

    __tablename__ = "section_conflict"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("proposal_section.id", ondelete="CASCADE"), nullable=False, index=True
    )
    content: Mapped[dict] = mapped_column(JSON, nullable=False)
    #: The version the refused save was based on.
    base_version: Mapped[int] = mapped_column(Integer, nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    section: Mapped[ProposalSection] = relationship(back_populates="conflicts")
    author = relationship("User")


class ProposalTag(db.Model):
    """A fact officers filter on, copied from the sections: (kind, code), e.g. ("region", "KZ-47")."""

    __tablename__ = "proposal_tag"
    __table_args__ = (
        UniqueConstraint("proposal_id", "kind", "code", name="uq_proposal_tag_proposal_id_kind_code"),
        # The officer's list filters by (kind, code): "which proposals have this tag" without a table scan.
        Index("ix_proposal_tag_kind_code_proposal_id", "kind", "code", "proposal_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False)
    #: "region", "red_list", "threat", "action", "gbf_target", "species"
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(200), nullable=False)

    proposal: Mapped[Proposal] = relationship(back_populates="tags")


class ProposalAttachment(db.Model):
    __tablename__ = "proposal_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[AttachmentKind] = mapped_column(_enum(AttachmentKind, "attachment_kind"), nullable=False)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), nullable=False)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="attachments")
    stored_file = relationship("StoredFile")
    uploaded_by = relationship("User")


class ProposalVersion(db.Model):
    """The frozen content of one submission, with its PDF; every submission of a proposal is kept."""

    __tablename__ = "proposal_version"
    __table_args__ = (
        UniqueConstraint("proposal_id", "number", name="uq_proposal_version_proposal_id_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Title, budget totals and every section's content as submitted.
    snapshot: Mapped[dict] = mapped_column(JSON, nullable=False)
    pdf_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), nullable=False)
    #: SHA-256 of the PDF, hex.
    pdf_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)

    proposal: Mapped[Proposal] = relationship(back_populates="versions")
    pdf_file = relationship("StoredFile")
    submitted_by = relationship("User")


class ScreeningOutcome(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    MORE_INFO = "more_info_requested"
    INVITE = "invited"
    DECLINE = "declined"


class Screening(db.Model):
    """An officer's screening of one submitted version: the checklist, the outcome and the reason."""

    __tablename__ = "screening"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False, index=True
    )
    version_id: Mapped[int | None] = mapped_column(ForeignKey("proposal_version.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    #: {checklist item key: true/false}
    checklist: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    outcome: Mapped[ScreeningOutcome] = mapped_column(
        _enum(ScreeningOutcome, "screening_outcome"), nullable=False
    )
    #: Sent to the applicant for ineligible, more information and declined outcomes.
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    screened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    officer = relationship("User")
