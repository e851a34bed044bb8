"""Rubrics, the reviewer pool, assignments with conflict-of-interest declarations, and reviews."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundapp.accounts.models import _enum
from fundapp.core.db import UTCDateTime, utcnow
from fundapp.extensions import db


class Rubric(db.Model):
    """How a call's proposals are reviewed: the criteria and the call's review settings."""

    __tablename__ = "rubric"
    __table_args__ = (
        CheckConstraint("reviewers_per_proposal BETWEEN 1 AND 10", name="reviewers_per_proposal_range"),
        CheckConstraint("disagreement_spread BETWEEN 0 AND 100", name="disagreement_spread_range"),
        CheckConstraint("recommendation_split_percent BETWEEN 1 AND 50", name="split_percent_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("call.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    reviewers_per_proposal: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    #: Reviewers do not see the applicant organisation's identity.
    blind: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: Reviewers see the other reviews of a proposal once they have submitted their own.
    reviewers_see_others: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: Flag a proposal when its highest and lowest weighted scores (0-100) differ by more than this.
    disagreement_spread: Mapped[int] = mapped_column(Integer, nullable=False, default=25)
    #: Flag a proposal when the smaller side of "fund" against "do not fund" holds at least this share (%).
    recommendation_split_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    #: Reviews are due by this instant; reminders go out before it.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    call = relationship("Call")
    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="rubric", cascade="all, delete-orphan", order_by="Criterion.position"
    )


class Criterion(db.Model):
    __tablename__ = "criterion"
    __table_args__ = (
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("scale_max > scale_min", name="scale_not_empty"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rubric_id: Mapped[int] = mapped_column(
        ForeignKey("rubric.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: Relative weight; weights are renormalised over the criteria a review scores (N/A left out).
    weight: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    scale_min: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    scale_max: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    #: {"1": "Poor: ...", ..., "5": "Excellent: ..."}
    level_descriptors: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    allow_na: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    rubric: Mapped[Rubric] = relationship(back_populates="criteria")


class ReviewerProfile(db.Model):
    __tablename__ = "reviewer_profile"
    __table_args__ = (CheckConstraint("max_load_per_call >= 0", name="max_load_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    #: Codes of the THEME vocabulary.
    themes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: Codes of the REGION vocabulary.
    regions: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: Free words such as "pinnipeds", "ungulates", "felids", "waterbirds".
    species_groups: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: Language codes the reviewer reads: "en", "ru", "kk".
    languages: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    max_load_per_call: Mapped[int] = mapped_column(Integer, nullable=False, default=8)
    bio: Mapped[str] = mapped_column(Text, nullable=False, default="")

    user = relationship("User")
    affiliations: Mapped[list["ReviewerAffiliation"]] = relationship(
        back_populates="profile", cascade="all, delete-orphan"
    )


class ReviewerAffiliation(db.Model):
    """An organisation the reviewer works or worked with: never assigned its proposals."""

    __tablename__ = "reviewer_affiliation"
    __table_args__ = (
        UniqueConstraint(
            "profile_id", "organisation_id", name="uq_reviewer_affiliation_profile_id_organisation_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("reviewer_profile.id", ondelete="CASCADE"), nullable=False
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True
    )
    description: Mapped[str] = mapped_column(String(300), nullable=False, default="")

    profile: Mapped[ReviewerProfile] = relationship(back_populates="affiliations")
    organisation = relationship("Organisation")


class AssignmentState(StrEnum):
    ASSIGNED = "assigned"  # waiting for the reviewer's conflict declaration
    ACCEPTED = "accepted"  # no conflict declared; reviewing
    SUBMITTED = "submitted"  # the review is in (locked)
    DECLINED = "declined"  # the reviewer declined
    CONFLICTED = "conflicted"  # the reviewer declared a conflict; replaced
    REMOVED = "removed"  # an officer took the assignment away

    @property
    def label(self):
        return ASSIGNMENT_STATE_LABELS[self]


ASSIGNMENT_STATE_LABELS = {
    AssignmentState.ASSIGNED: _l("Waiting for the conflict declaration"),
    AssignmentState.ACCEPTED: _l("Reviewing"),
    AssignmentState.SUBMITTED: _l("Review submitted"),
    AssignmentState.DECLINED: _l("Declined"),
    AssignmentState.CONFLICTED: _l("Conflict of interest declared"),
    AssignmentState.REMOVED: _l("Removed by an officer"),
}
#: Assignments that count towards a proposal's reviewers and a reviewer's load.
ACTIVE_ASSIGNMENT_STATES = frozenset(
    {AssignmentState.ASSIGNED, AssignmentState.ACCEPTED, AssignmentState.SUBMITTED}
)


class Assignment(db.Model):
    __tablename__ = "review_assignment"
    __table_args__ = (
        UniqueConstraint("proposal_id", "reviewer_id", name="uq_review_assignment_proposal_id_reviewer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False, index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    state: Mapped[AssignmentState] = mapped_column(
        _enum(AssignmentState, "assignment_state"), nullable=False, default=AssignmentState.ASSIGNED
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: None when the automatic assignment chose the reviewer.
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: An officer's reason for assigning or removing by hand (overriding the automatic choice).
    override_reason: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the reviewer said when declaring a conflict or declining.
    declaration_note: Mapped[str | None] = mapped_column(Text)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    proposal = relationship("Proposal")
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])
    review: Mapped["Review | None"] = relationship(
        back_populates="assignment", cascade="all, delete-orphan", uselist=False
    )


class Recommendation(StrEnum):
    FUND = "fund"
    FUND_WITH_CHANGES = "fund_with_changes"
    DO_NOT_FUND = "do_not_fund"

    @property
    def label(self):
        return RECOMMENDATION_LABELS[self]


RECOMMENDATION_LABELS = {
    Recommendation.FUND: _l("Fund"),
    Recommendation.FUND_WITH_CHANGES: _l("Fund with changes"),
    Recommendation.DO_NOT_FUND: _l("Do not fund"),
}


class Review(db.Model):
    __tablename__ = "review"
    __table_args__ = (
        CheckConstraint(
            "weighted_score IS NULL OR (weighted_score >= 0 AND weighted_score <= 100)",
            name="weighted_score_range",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignment.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    recommendation: Mapped[Recommendation | None] = mapped_column(_enum(Recommendation, "recommendation"))
    comments: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: Raised at every save (autosave conflicts are refused like proposal sections).
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Weighted score on 0-100 computed at submission, N/A criteria left out and weights renormalised.
    weighted_score: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))

    assignment: Mapped[Assignment] = relationship(back_populates="review")
    scores: Mapped[list["CriterionScore"]] = relationship(
        back_populates="review", cascade="all, delete-orphan"
    )


class CriterionScore(db.Model):
    __tablename__ = "criterion_score"
    __table_args__ = (
        UniqueConstraint("review_id", "criterion_id", name="uq_criterion_score_review_id_criterion_id"),
        CheckConstraint("NOT (is_na AND score IS NOT NULL)", name="na_has_no_score"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), nullable=False)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), nullable=False)
    score: Mapped[int | None] = mapped_column(Integer)
    is_na: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    review: Mapped[Review] = relationship(back_populates="scores")
    criterion = relationship("Criterion")
