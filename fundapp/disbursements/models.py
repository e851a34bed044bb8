"""Grants, their tranches and grantee reports, funding pools and the double-entry ledger.

The ledger is append-only: ``journal_entry`` and ``posting`` rows are never updated or deleted (a database
trigger refuses it on SQLite and PostgreSQL, see ``fundapp.disbursements.ledger``); a mistake is corrected
by a reversing entry. Balances are sums of postings, never stored totals.

Accounts and signs: a posting's amount is positive for a debit and negative for a credit, and the postings
of an entry sum to zero per currency. The fund's cash is a debit-balance account; a pool and a grant's
commitment are credit-balance accounts, so a pool's available balance is minus its account's balance
(received less committed), and a grant's outstanding balance is minus its commitment account's balance
(committed less released).
"""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
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

# -- the ledger -------------------------------------------------------------------------------------------


class AccountKind(StrEnum):
    CASH = "cash"  # the fund's bank account(s): debit balance
    POOL = "pool"  # money received and not yet committed: credit balance
    COMMITMENT = "commitment"  # a grant's commitment not yet released: credit balance

    @property
    def label(self):
        return {
            AccountKind.CASH: _l("Cash"),
            AccountKind.POOL: _l("Funding pool"),
            AccountKind.COMMITMENT: _l("Grant commitment"),
        }[self]


class LedgerAccount(db.Model):
    __tablename__ = "ledger_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: e.g. CASH-KZT, POOL-SEAL, GRANT-IBF-2026-0001
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind, "account_kind"), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return f"<LedgerAccount {self.code}>"


class EntryKind(StrEnum):
    RECEIPT = "receipt"  # funds received into a pool
    COMMITMENT = "commitment"  # a grant signed: pool -> grant commitment
    RELEASE = "release"  # a tranche paid: grant commitment -> cash out
    DECOMMITMENT = "decommitment"  # what a closed grant did not spend goes back to its pool
    REFUND = "refund"  # a grantee paid money back: cash in -> pool

    @property
    def label(self):
        return {
            EntryKind.RECEIPT: _l("Funds received"),
            EntryKind.COMMITMENT: _l("Commitment"),
            EntryKind.RELEASE: _l("Release"),
            EntryKind.DECOMMITMENT: _l("De-commitment"),
            EntryKind.REFUND: _l("Refund"),
        }[self]


class JournalEntry(db.Model):
    """One money movement. Append-only: never updated, never deleted.

    A reversing entry has the kind of the entry it reverses, ``reverses_id`` set and every posting negated,
    so sums by kind net the two out.
    """

    __tablename__ = "journal_entry"
    __table_args__ = ({"comment": "append-only (trigger); corrections are reversing entries"},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "entry_kind"), nullable=False, index=True)
    #: The day the money moved (value date), in the fund's calendar.
    value_date: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    #: The bank's reference of the payment or receipt, when there is one.
    bank_reference: Mapped[str] = mapped_column(String(140), nullable=False, default="")
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("funding_pool.id"), index=True)
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grant_award.id"), index=True)
    #: Set on release entries only: a tranche is released at most once.
    tranche_id: Mapped[int | None] = mapped_column(ForeignKey("tranche.id"), unique=True)
    #: The entry this one reverses; an entry is reversed at most once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"), unique=True)
    #: A client's key for the request that made this entry: retrying with it returns this entry.
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    #: SHA-256 of the request's parameters, to refuse a retry with the same key and other parameters.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))

    postings: Mapped[list["Posting"]] = relationship(
        back_populates="entry", order_by="Posting.id", cascade="save-update, merge"
    )
    recorded_by = relationship("User")
    pool = relationship("FundingPool")
    grant = relationship("Grant", foreign_keys=[grant_id])

    def __repr__(self):
        return f"<JournalEntry {self.id} {self.kind}>"


class Posting(db.Model):
    """One line of an entry: a debit (positive) or a credit (negative) on one account."""

    __tablename__ = "posting"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        {"comment": "append-only (trigger)"},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), nullable=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")
    account: Mapped[LedgerAccount] = relationship()

    @property
    def amount(self):
        return Money(self.amount_minor, self.currency)


# -- funding pools -----------------------------------------------------------------------------------------


class Restriction(StrEnum):
    UNRESTRICTED = "unrestricted"
    THEME = "theme"
    CALL = "call"

    @property
    def label(self):
        return {
            Restriction.UNRESTRICTED: _l("Unrestricted"),
            Restriction.THEME: _l("Restricted to a theme"),
            Restriction.CALL: _l("Restricted to a call"),
        }[self]


class FundingPool(db.Model):
    """Money the fund holds for a purpose: restricted to a theme or a call, or unrestricted.

    A grant draws from exactly one pool, the most specific one that can cover it (``pools.pool_for``).
    """

    __tablename__ = "funding_pool"
    __table_args__ = (
        CheckConstraint(
            "(restriction = 'unrestricted' AND theme IS NULL AND call_id IS NULL)"
            " OR (restriction = 'theme' AND theme IS NOT NULL AND call_id IS NULL)"
            " OR (restriction = 'call' AND call_id IS NOT NULL AND theme IS NULL)",
            name="restriction_matches_target",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Short code, e.g. SEAL, STEPPE, GENERAL.
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    restriction: Mapped[Restriction] = mapped_column(_enum(Restriction, "pool_restriction"), nullable=False)
    #: Code of the THEME vocabulary (restriction = theme).
    theme: Mapped[str | None] = mapped_column(String(40))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id"))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    account: Mapped[LedgerAccount] = relationship()
    call = relationship("Call")

    def __repr__(self):
        return f"<FundingPool {self.code}>"


# -- grants ------------------------------------------------------------------------------------------------


class GrantState(StrEnum):
    AGREEMENT = "agreement"  # approved; agreement being prepared and signed
    ACTIVE = "active"  # both signatures recorded; amount committed
    SUSPENDED = "suspended"
    COMPLETED = "completed"  # final report accepted
    TERMINATED = "terminated"  # ended early by the fund
    CLOSED = "closed"  # every tranche released or cancelled, the rest de-committed
    CANCELLED = "cancelled"  # never signed

    @property
    def label(self):
        return {
            GrantState.AGREEMENT: _l("Agreement"),
            GrantState.ACTIVE: lazy_pgettext("grant state", "Active"),
            GrantState.SUSPENDED: _l("Suspended"),
            GrantState.COMPLETED: _l("Completed"),
            GrantState.TERMINATED: _l("Terminated"),
            GrantState.CLOSED: _l("Closed"),
            GrantState.CANCELLED: _l("Cancelled"),
        }[self]


class Grant(db.Model):
    __tablename__ = "grant_award"  # "grant" is an SQL keyword
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("end_date > start_date", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: e.g. IBF-2026-0001
    reference: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), nullable=False, unique=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False, index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), nullable=False, index=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("funding_pool.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    state: Mapped[GrantState] = mapped_column(
        _enum(GrantState, "grant_state"), nullable=False, default=GrantState.AGREEMENT, index=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    #: The board's conditions, as decided.
    conditions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: The commitment account in the ledger (created with the grant).
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), nullable=False, unique=True)

    # The organisation's bank details as they were at signing (payments go there).
    bank_name: Mapped[str | None] = mapped_column(String(200))
    bank_bic: Mapped[str | None] = mapped_column(String(11))
    bank_iban: Mapped[str | None] = mapped_column(String(34))
    bank_kbe: Mapped[str | None] = mapped_column(String(2))

    # The agreement for signature, and the signatures.
    agreement_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    agreement_sha256: Mapped[str | None] = mapped_column(String(64))
    grantee_signatory: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    grantee_signed_on: Mapped[date | None] = mapped_column(Date)
    fund_signatory: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    fund_signed_on: Mapped[date | None] = mapped_column(Date)
    signed_copy_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    proposal = relationship("Proposal")
    agenda_item = relationship("AgendaItem")
    organisation = relationship("Organisation")
    call = relationship("Call")
    pool: Mapped[FundingPool] = relationship()
    account: Mapped[LedgerAccount] = relationship()
    agreement_file = relationship("StoredFile", foreign_keys=[agreement_file_id])
    signed_copy_file = relationship("StoredFile", foreign_keys=[signed_copy_file_id])
    tranches: Mapped[list["Tranche"]] = relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="Tranche.number"
    )
    reports: Mapped[list["GrantReport"]] = relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="GrantReport.number"
    )

    @property
    def amount(self):
        return Money(self.amount_minor, self.currency)

    # -- permissions: shared by views and templates -------------------------------------------------

    def is_grantee(self, user):
        return self.organisation.is_member(user)

    def can_view(self, user):
        return user.is_authenticated and (
            self.is_grantee(user) or user.has_role(Role.PROGRAMME_OFFICER, Role.FINANCE_OFFICER, Role.ADMIN)
        )

    def can_view_bank_details(self, user):
        return user.is_authenticated and (self.is_grantee(user) or user.has_role(Role.FINANCE_OFFICER))

    def can_manage(self, user):
        """Schedule, agreement, signatures, reports, suspension, closure: programme officers."""
        return user.is_authenticated and user.has_role(Role.PROGRAMME_OFFICER)

    def __repr__(self):
        return f"<Grant {self.reference} {self.state}>"


class TrancheGate(StrEnum):
    NONE = "none"  # paid once its date has come
    PROGRESS_REPORT = "progress_report"  # waits for an accepted progress report
    FINAL_REPORT = "final_report"  # waits for the accepted final report

    @property
    def label(self):
        return {
            TrancheGate.NONE: _l("Nothing"),
            TrancheGate.PROGRESS_REPORT: _l("An accepted progress report"),
            TrancheGate.FINAL_REPORT: _l("The accepted final report"),
        }[self]


class TrancheState(StrEnum):
    SCHEDULED = "scheduled"
    DUE = "due"
    APPROVED = "approved"
    RELEASED = "released"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return {
            TrancheState.SCHEDULED: _l("Scheduled"),
            TrancheState.DUE: lazy_pgettext("tranche state", "Due"),
            TrancheState.APPROVED: _l("Approved for payment"),
            TrancheState.RELEASED: _l("Released"),
            TrancheState.CANCELLED: _l("Cancelled"),
        }[self]


class Tranche(db.Model):
    __tablename__ = "tranche"
    __table_args__ = (
        UniqueConstraint("grant_id", "number", name="uq_tranche_grant_id_number"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # Four eyes, kept by the database too: the approver never releases.
        CheckConstraint(
            "released_by_id IS NULL OR approved_by_id IS NULL OR released_by_id <> approved_by_id",
            name="four_eyes",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(
        ForeignKey("grant_award.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    planned_date: Mapped[date] = mapped_column(Date, nullable=False)
    gate: Mapped[TrancheGate] = mapped_column(
        _enum(TrancheGate, "tranche_gate"), nullable=False, default=TrancheGate.NONE
    )
    #: The report it waits for (gate progress_report or final_report).
    report_id: Mapped[int | None] = mapped_column(ForeignKey("grant_report.id"))
    state: Mapped[TrancheState] = mapped_column(
        _enum(TrancheState, "tranche_state"), nullable=False, default=TrancheState.SCHEDULED, index=True
    )
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The IBAN the approver checked; the release pays to it and refuses if the grant's has changed.
    approved_iban: Mapped[str | None] = mapped_column(String(34))
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_on: Mapped[date | None] = mapped_column(Date)
    bank_reference: Mapped[str] = mapped_column(String(140), nullable=False, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    grant: Mapped[Grant] = relationship(back_populates="tranches")
    report = relationship("GrantReport", foreign_keys=[report_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    released_by = relationship("User", foreign_keys=[released_by_id])

    @property
    def amount(self):
        return Money(self.amount_minor, self.currency)

    def __repr__(self):
        return f"<Tranche {self.grant_id}/{self.number} {self.state}>"


# -- grantee reports ---------------------------------------------------------------------------------------


class ReportKind(StrEnum):
    PROGRESS = "progress"
    FINAL = "final"

    @property
    def label(self):
        return {ReportKind.PROGRESS: _l("Progress report"), ReportKind.FINAL: _l("Final report")}[self]


class ReportState(StrEnum):
    DUE = "due"  # expected; the grantee writes it
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    CHANGES_REQUESTED = "changes_requested"

    @property
    def label(self):
        return {
            ReportState.DUE: lazy_pgettext("report state", "Due"),
            ReportState.SUBMITTED: lazy_pgettext("report state", "Submitted"),
            ReportState.ACCEPTED: _l("Accepted"),
            ReportState.CHANGES_REQUESTED: _l("Changes requested"),
        }[self]


class GrantReport(db.Model):
    __tablename__ = "grant_report"
    __table_args__ = (
        UniqueConstraint("grant_id", "number", name="uq_grant_report_grant_id_number"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(
        ForeignKey("grant_award.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[ReportKind] = mapped_column(_enum(ReportKind, "report_kind"), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    state: Mapped[ReportState] = mapped_column(
        _enum(ReportState, "report_state"), nullable=False, default=ReportState.DUE, index=True
    )
    narrative: Mapped[str] = mapped_column(Text, nullable=False, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The officer's comment when asking for changes (or accepting).
    review_comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: When the last overdue reminder was sent (one a week at most).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    grant: Mapped[Grant] = relationship(back_populates="reports")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    indicator_values: Mapped[list["ReportIndicatorValue"]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportIndicatorValue.position"
    )
    spend_lines: Mapped[list["ReportSpendLine"]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportSpendLine.position"
    )
    files: Mapped[list["ReportFile"]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportFile.id"
    )

    def __repr__(self):
        return f"<GrantReport {self.grant_id}/{self.number} {self.kind} {self.state}>"


class ReportIndicatorValue(db.Model):
    """The value of one logframe indicator over the report's period, against its target."""

    __tablename__ = "report_indicator_value"
    __table_args__ = (
        UniqueConstraint("report_id", "position", name="uq_report_indicator_value_report_id_position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("grant_report.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: Index of the indicator in the proposal's logframe.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Code of the STANDARD_INDICATOR vocabulary, when the indicator is a standard one.
    code: Mapped[str | None] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    unit: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    #: The logframe's target for the whole project, as a decimal string.
    target: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    #: Achieved in this report's period, as a decimal string ("" when not reported).
    value: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")

    report: Mapped[GrantReport] = relationship(back_populates="indicator_values")


class ReportSpendLine(db.Model):
    """Spending on one budget line up to the end of the report's period, against the budget."""

    __tablename__ = "report_spend_line"
    __table_args__ = (
        UniqueConstraint("report_id", "position", name="uq_report_spend_line_report_id_position"),
        CheckConstraint("spent_minor >= 0", name="spent_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("grant_report.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: Index of the line in the proposal's budget.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    #: What the budget gives the line from the grant (line total less co-financing).
    budget_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    spent_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    #: Required when the variance is over the fund's threshold.
    explanation: Mapped[str] = mapped_column(Text, nullable=False, default="")

    report: Mapped[GrantReport] = relationship(back_populates="spend_lines")

    @property
    def budget(self):
        return Money(self.budget_minor, self.currency)

    @property
    def spent(self):
        return Money(self.spent_minor, self.currency)


class ReportFileKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"

    @property
    def label(self):
        return {ReportFileKind.PHOTO: _l("Photo"), ReportFileKind.DOCUMENT: _l("Document")}[self]


class ReportFile(db.Model):
    __tablename__ = "report_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("grant_report.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[ReportFileKind] = mapped_column(_enum(ReportFileKind, "report_file_kind"), nullable=False)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), nullable=False)
    caption: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    report: Mapped[GrantReport] = relationship(back_populates="files")
    stored_file = relationship("StoredFile")


# Both carry the amount, so that sums of postings are read from the index alone (index-only scans on
# PostgreSQL): by account (a pool's balance, post_entry's check) and by entry (the commitments, de-commitments
# and refunds that ledger.pool_figures_many picks out by their entry's kind).
Index(
    "ix_posting_account_id_entry_id_amount_minor", Posting.account_id, Posting.entry_id, Posting.amount_minor
)
Index(
    "ix_posting_entry_id_account_id_amount_minor", Posting.entry_id, Posting.account_id, Posting.amount_minor
)
