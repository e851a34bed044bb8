"""The board: its rules, meetings (and votes by correspondence), agendas, conflicts, votes and decisions."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.accounts.models import _enum
from fundapp.core.db import UTCDateTime, utcnow
from fundapp.core.money import Money
from fundapp.extensions import db


class BoardSettings(db.Model):
    """The board's rules (one row). Members are the users holding the board member role."""

    __tablename__ = "board_settings"
    __table_args__ = (
        CheckConstraint("quorum_percent BETWEEN 0 AND 100", name="quorum_percent_range"),
        CheckConstraint("majority_percent BETWEEN 0 AND 100", name="majority_percent_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: A programme officer who schedules meetings, keeps the agenda, records votes and closes meetings.
    secretary_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Quorum: strictly more than this share (%) of the members eligible for an item must take part.
    quorum_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=50)
    #: Majority: strictly more than this share (%) of the votes cast (abstentions not counted) must approve.
    majority_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=50)
    #: On a tie, the chair's vote decides.
    chair_casting_vote: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: The minutes name how each member voted (else they give the counts only).
    minutes_name_votes: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    chair = relationship("User", foreign_keys=[chair_id])
    secretary = relationship("User", foreign_keys=[secretary_id])


class MeetingKind(StrEnum):
    MEETING = "meeting"
    CORRESPONDENCE = "correspondence"  # a written vote between meetings, with a deadline

    @property
    def label(self):
        return {MeetingKind.MEETING: _l("Meeting"), MeetingKind.CORRESPONDENCE: _l("Vote by correspondence")}[
            self
        ]


class MeetingState(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"  # in session, or a written vote accepting votes
    CLOSED = "closed"  # decisions immutable, minutes rendered
    CANCELLED = "cancelled"

    @property
    def label(self):
        return {
            MeetingState.SCHEDULED: _l("Scheduled"),
            MeetingState.OPEN: _l("In session"),
            MeetingState.CLOSED: _l("Closed"),
            MeetingState.CANCELLED: _l("Cancelled"),
        }[self]


class Meeting(db.Model):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: e.g. BRD-2026-03
    reference: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    kind: Mapped[MeetingKind] = mapped_column(
        _enum(MeetingKind, "meeting_kind"), nullable=False, default=MeetingKind.MEETING
    )
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    #: When the meeting takes place (for a vote by correspondence: when voting opens).
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    location: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    #: A vote by correspondence closes at this instant.
    vote_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[MeetingState] = mapped_column(
        _enum(MeetingState, "meeting_state"), nullable=False, default=MeetingState.SCHEDULED
    )
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    #: SHA-256 of the minutes PDF, hex.
    minutes_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)

    items: Mapped[list["AgendaItem"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="AgendaItem.position"
    )
    attendance: Mapped[list["Attendance"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )
    minutes_file = relationship("StoredFile")
    created_by = relationship("User")

    @property
    def is_closed(self):
        return self.state in (MeetingState.CLOSED, MeetingState.CANCELLED)


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id", name="uq_attendance_meeting_id_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    present: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
    user = relationship("User")


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"
    DEFERRED = "deferred"

    @property
    def label(self):
        return {
            DecisionOutcome.APPROVED: _l("Approved"),
            DecisionOutcome.APPROVED_WITH_CONDITIONS: _l("Approved with conditions"),
            DecisionOutcome.REJECTED: _l("Rejected"),
            DecisionOutcome.DEFERRED: _l("Deferred"),
        }[self]


class AgendaItem(db.Model):
    """A proposal on a meeting's agenda, and, once decided, the board's decision on it."""

    __tablename__ = "agenda_item"
    __table_args__ = (
        UniqueConstraint("meeting_id", "proposal_id", name="uq_agenda_item_meeting_id_proposal_id"),
        CheckConstraint("recommended_minor >= 0", name="recommended_not_negative"),
        CheckConstraint("approved_minor IS NULL OR approved_minor > 0", name="approved_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False, index=True
    )
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: The secretary's recommended amount (defaults to the amount requested).
    recommended_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    #: The motion put to the vote: approve this amount (with these conditions, if any).
    motion_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    motion_conditions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    outcome: Mapped[DecisionOutcome | None] = mapped_column(_enum(DecisionOutcome, "decision_outcome"))
    approved_minor: Mapped[int | None] = mapped_column(BigInteger)
    conditions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: Sent to the applicant for a rejection; recorded for a deferral.
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: Quorum and tally when decided, as recorded in the minutes.
    eligible_count: Mapped[int | None] = mapped_column(Integer)
    participating_count: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    proposal = relationship("Proposal")
    votes: Mapped[list["Vote"]] = relationship(back_populates="item", cascade="all, delete-orphan")
    conflicts: Mapped[list["BoardConflict"]] = relationship(
        back_populates="item", cascade="all, delete-orphan"
    )

    @property
    def approved_amount(self):
        return None if self.approved_minor is None else Money(self.approved_minor, self.proposal.currency)

    @property
    def is_decided(self):
        return self.outcome is not None


class BoardConflict(db.Model):
    """A member's declared conflict on an agenda item: they are recused from it."""

    __tablename__ = "board_conflict"
    __table_args__ = (UniqueConstraint("item_id", "user_id", name="uq_board_conflict_item_id_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    item: Mapped[AgendaItem] = relationship(back_populates="conflicts")
    user = relationship("User")


class VoteChoice(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ABSTAIN = "abstain"

    @property
    def label(self):
        return {
            VoteChoice.APPROVE: _l("Approve"),
            VoteChoice.REJECT: _l("Reject"),
            VoteChoice.ABSTAIN: _l("Abstain"),
        }[self]


class Vote(db.Model):
    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("item_id", "user_id", name="uq_vote_item_id_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    choice: Mapped[VoteChoice] = mapped_column(_enum(VoteChoice, "vote_choice"), nullable=False)
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: Who entered the vote: the member, or the secretary on their behalf.
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)

    item: Mapped[AgendaItem] = relationship(back_populates="votes")
    user = relationship("User", foreign_keys=[user_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
