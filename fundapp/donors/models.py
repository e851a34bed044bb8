"""Donors, their pledges and contributions, and the attribution of grants to the money they gave.

A contribution is money a donor gave, in the donor's currency, converted to the fund's base currency at
the rate of its value date, and received into the funding pool its restriction names: it is one ledger
entry (RECEIPT) into that pool, whose id the contribution keeps.

When a grant commits money from a pool (at signing), the commitment is attributed to the contributions
in that pool by one rule, first in, first out (``fundapp.donors.allocation``), and the attribution is
stored as ``Allocation`` rows: the fund can always say which projects a donor's money funded, the same
way every time. What a grant released is attributed in the same proportions as its commitment.

``GeneratedReport`` keeps every donor or portfolio report the fund produced: who asked, when, for what
period, the file and its SHA-256, so a report can be downloaded again exactly as it was sent.
"""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
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
from fundapp.core.permissions import Role
from fundapp.extensions import db


class DonorKind(StrEnum):
    GOVERNMENT = "government"
    MULTILATERAL = "multilateral"
    FOUNDATION = "foundation"
    COMPANY = "company"
    INDIVIDUAL = "individual"

    @property
    def label(self):
        return {
            DonorKind.GOVERNMENT: _l("Government"),
            DonorKind.MULTILATERAL: _l("Multilateral organisation"),
            DonorKind.FOUNDATION: _l("Foundation"),
            DonorKind.COMPANY: _l("Company"),
            DonorKind.INDIVIDUAL: _l("Individual"),
        }[self]


class Donor(db.Model):
    __tablename__ = "donor"
    __table_args__ = (
        CheckConstraint("length(country) = 2", name="country_alpha2"),
        CheckConstraint("preferred_language IN ('en', 'ru', 'kk')", name="known_language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: e.g. DNR-0001
    reference: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[DonorKind] = mapped_column(_enum(DonorKind, "donor_kind"), nullable=False)
    #: ISO 3166-1 alpha-2.
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    #: The language reports are written in (en, ru or kk).
    preferred_language: Mapped[str] = mapped_column(String(5), nullable=False, default="en")
    #: The currency reports show figures in, besides the base currency.
    preferred_currency: Mapped[str] = mapped_column(String(3), nullable=False)
    #: An org-id.guide identifier (e.g. GB-GOV-1, XM-DAC-41301), for open data; blank for individuals.
    org_identifier: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    website: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    #: Shown in the report's letter: how the donor wishes to be thanked or named.
    salutation: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    contacts: Mapped[list["DonorContact"]] = relationship(
        back_populates="donor", cascade="all, delete-orphan", order_by="DonorContact.id"
    )
    pledges: Mapped[list["Pledge"]] = relationship(back_populates="donor", order_by="Pledge.pledged_on")
    contributions: Mapped[list["Contribution"]] = relationship(
        back_populates="donor", order_by="Contribution.value_date"
    )

    def is_contact(self, user):
        return user.is_authenticated and any(c.user_id == user.id for c in self.contacts)

    def can_view(self, user):
        """Fund staff who deal with donors, and the donor's own contacts with portal access."""
        return user.is_authenticated and (
            user.has_role(Role.FINANCE_OFFICER, Role.PROGRAMME_OFFICER, Role.ADMIN)
            or (user.has_role(Role.DONOR) and self.is_contact(user))
        )

    def can_manage(self, user):
        return user.is_authenticated and user.has_role(Role.FINANCE_OFFICER, Role.ADMIN)

    def __repr__(self):
        return f"<Donor {self.reference} {self.name}>"


class DonorContact(db.Model):
    __tablename__ = "donor_contact"
    __table_args__ = (UniqueConstraint("donor_id", "user_id", name="uq_donor_contact_donor_id_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    donor_id: Mapped[int] = mapped_column(
        ForeignKey("donor.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    #: The contact's account on the donor portal (role DONOR), when they have one.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)

    donor: Mapped[Donor] = relationship(back_populates="contacts")
    user = relationship("User")


class PledgeState(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return {
            PledgeState.OPEN: lazy_pgettext("pledge state", "Open"),
            PledgeState.FULFILLED: _l("Fulfilled"),
            PledgeState.CANCELLED: _l("Cancelled"),
        }[self]


class Pledge(db.Model):
    """A donor's promise: an amount in its currency, for a pool, paid by a schedule of instalments."""

    __tablename__ = "pledge"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id"), nullable=False, index=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("funding_pool.id"), nullable=False, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    pledged_on: Mapped[date] = mapped_column(Date, nullable=False)
    state: Mapped[PledgeState] = mapped_column(
        _enum(PledgeState, "pledge_state"), nullable=False, default=PledgeState.OPEN
    )
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    donor: Mapped[Donor] = relationship(back_populates="pledges")
    pool = relationship("FundingPool")
    instalments: Mapped[list["PledgeInstalment"]] = relationship(
        back_populates="pledge", cascade="all, delete-orphan", order_by="PledgeInstalment.due_on"
    )
    contributions: Mapped[list["Contribution"]] = relationship(back_populates="pledge")

    @property
    def amount(self):
        return Money(self.amount_minor, self.currency)


class PledgeInstalment(db.Model):
    __tablename__ = "pledge_instalment"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledge.id", ondelete="CASCADE"), nullable=False, index=True
    )
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)

    pledge: Mapped[Pledge] = relationship(back_populates="instalments")

    @property
    def amount(self):
        return Money(self.amount_minor, self.currency)


class Contribution(db.Model):
    """Money received from a donor: in its currency, at a rate, and in the base currency in a pool."""

    __tablename__ = "contribution"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("base_amount_minor > 0", name="base_amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id"), nullable=False, index=True)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledge.id"), index=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("funding_pool.id"), nullable=False, index=True)
    #: In the donor's currency.
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    #: Units of the base currency per one unit of ``currency`` on the value date, as a decimal string.
    rate: Mapped[str] = mapped_column(String(40), nullable=False)
    #: ``amount`` at ``rate``, rounded half to even: what entered the pool.
    base_amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    base_currency: Mapped[str] = mapped_column(String(3), nullable=False)
    value_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    bank_reference: Mapped[str] = mapped_column(String(140), nullable=False, default="")
    #: The RECEIPT journal entry that put the money in the pool.
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    donor: Mapped[Donor] = relationship(back_populates="contributions")
    pledge: Mapped[Pledge | None] = relationship(back_populates="contributions")
    pool = relationship("FundingPool")
    entry = relationship("JournalEntry")

    @property
    def amount(self):
        return Money(self.amount_minor, self.currency)

    @property
    def base_amount(self):
        return Money(self.base_amount_minor, self.base_currency)


class Allocation(db.Model):
    """A part of a grant's commitment (or, negative, of its de-commitment) attributed to a contribution.

    ``contribution_id`` is NULL for the part no contribution covers: money the pool received otherwise
    (receipts recorded without a donor, refunds by grantees).
    """

    __tablename__ = "allocation"
    __table_args__ = (
        UniqueConstraint("entry_id", "contribution_id", name="uq_allocation_entry_id_contribution_id"),
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), nullable=False, index=True)
    contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contribution.id"), index=True)
    #: The commitment or de-commitment journal entry this attributes.
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), nullable=False, index=True)
    #: In the base currency; negative when a de-commitment gives money back.
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    grant = relationship("Grant")
    contribution: Mapped[Contribution | None] = relationship()
    entry = relationship("JournalEntry")

    @property
    def amount(self):
        return Money(self.amount_minor, self.currency)


class ReportKind(StrEnum):
    DONOR = "donor"
    PORTFOLIO = "portfolio"

    @property
    def label(self):
        return {ReportKind.DONOR: _l("Donor report"), ReportKind.PORTFOLIO: _l("Portfolio report")}[self]


class ReportJobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self):
        return {
            ReportJobState.QUEUED: _l("Queued"),
            ReportJobState.RUNNING: _l("Being generated"),
            ReportJobState.DONE: _l("Ready"),
            ReportJobState.FAILED: _l("Failed"),
        }[self]


class GeneratedReport(db.Model):
    """A donor or portfolio report the fund generated (or is generating), kept with its file."""

    __tablename__ = "generated_report"
    __table_args__ = (CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ReportKind] = mapped_column(_enum(ReportKind, "generated_report_kind"), nullable=False)
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donor.id"), index=True)
    #: The period and options asked for: {"from": "2026-01-01", "to": "2026-12-31", "language": "ru", ...}
    parameters: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    state: Mapped[ReportJobState] = mapped_column(
        _enum(ReportJobState, "report_job_state"), nullable=False, default=ReportJobState.QUEUED
    )
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: What is being done now, or why it failed.
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(80))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    donor: Mapped[Donor | None] = relationship()
    file = relationship("StoredFile")
    requested_by = relationship("User")
