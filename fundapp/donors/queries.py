"""What a donor's money did, as plain values: for the staff pages, the donor portal and the donor report.

Every function takes the session and returns dataclasses of ``Money``, dates, strings and tuples (no ORM
objects), in a constant number of queries whatever the number of contributions or grants.

Two currencies. Each amount comes as ``Amounts(base=..., donor=...)``: ``base`` in the fund's base
currency (exact sums of the ledger and of the stored ``Allocation`` rows) and ``donor`` in the donor's
currency (``Donor.preferred_currency``). A contribution in the donor's currency counts with its own amount;
what was allocated or released of it is converted back at the contribution's own rate, exactly: in the
proportion ``amount / base_amount`` of that contribution, rounded half to even per contribution, so that a
fully allocated contribution shows its whole amount and nothing more. A contribution in another currency
(say a transfer in the base currency) is converted at the proportion of the donor's latest contribution in
their currency on or before its value date (or their first one). A donor with no contribution in their
currency has no rate to convert with: their ``donor`` amounts are then in the base currency, and
``DonorFigures.donor_currency`` says so. ``donor_currency`` is always the currency of the ``donor``
amounts.

Periods (``date_from`` and ``date_to``, both included, either may be None for "from the start" / "up to
now"):

* contributed: contributions whose value date is in the period;
* allocated: allocations (commitments attributed to the donor's contributions, less de-commitments given
  back) whose journal entry's value date is in the period;
* released: releases (tranche payments) whose release entry's value date is in the period, attributed to
  the donor in the proportions of each grant's net attribution at the end of the period
  (``allocation.released_by_contribution``);
* balance: what is still unallocated of the donor's money at the end of the period: every contribution up
  to ``date_to`` less every allocation up to ``date_to``. Without a period it is contributed - allocated.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from fundapp.accounts.models import Organisation
from fundapp.applications.models import Proposal, ProposalSection, ProposalTag
from fundapp.core.formatting import to_local
from fundapp.core.money import Money
from fundapp.core.storage import StoredFile
from fundapp.disbursements.models import (
    EntryKind,
    FundingPool,
    Grant,
    GrantReport,
    GrantState,
    JournalEntry,
    Posting,
    ReportFile,
    ReportFileKind,
    ReportIndicatorValue,
    ReportState,
)
from fundapp.donors.allocation import released_by_contribution
from fundapp.donors.models import Allocation, Contribution, Donor, Pledge, PledgeState
from fundapp.reference.models import ReferenceItem, Vocabulary

# -- values ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Amounts:
    """One figure in the base currency and in the donor's currency."""

    base: Money
    donor: Money


@dataclass(frozen=True)
class DonorFigures:
    """The key figures of a donor over a period (see the module's docstring for what each one counts)."""

    donor_reference: str
    base_currency: str
    #: The currency of every ``.donor`` amount: the donor's, or the base currency when no rate is known.
    donor_currency: str
    date_from: date | None
    date_to: date | None
    contributed: Amounts
    allocated: Amounts
    released: Amounts
    #: Still unallocated at the end of the period.
    balance: Amounts
    #: Contributions whose value date is in the period.
    contributions: int
    #: Grants listed by ``funded_projects`` for the same period.
    projects: int


@dataclass(frozen=True)
class Region:
    code: str
    label: str


@dataclass(frozen=True)
class Species:
    scientific_name: str
    common_name: str
    #: IUCN Red List category code (CR, EN, VU, ...), "" when not given.
    red_list: str


@dataclass(frozen=True)
class FundedProject:
    """A grant the donor's money funds, with what is attributed to the donor."""

    grant_id: int
    reference: str
    title: str
    organisation: str
    regions: tuple[Region, ...]
    species: tuple[Species, ...]
    #: Code of the THEME vocabulary ("" when the proposal has none) and its label.
    theme_code: str
    theme: str
    #: Codes of the Kunming-Montreal GBF targets the proposal names.
    gbf_targets: tuple[str, ...]
    state: GrantState
    start_date: date
    end_date: date
    #: The whole grant, in the base currency.
    grant_amount: Money
    #: The donor's net attribution of the grant's commitment at the end of the period.
    attributed: Amounts
    #: Released to the end of the period, attributed to the donor.
    released: Amounts
    #: Released within the period, attributed to the donor.
    released_in_period: Amounts


@dataclass(frozen=True)
class ContributionRow:
    contribution_id: int
    value_date: date
    #: In the contribution's currency (normally the donor's).
    amount: Money
    #: Base-currency units per unit of ``amount``'s currency, as recorded.
    rate: Decimal
    base_amount: Money
    pool_code: str
    pool_name: str
    pledge_id: int | None
    bank_reference: str
    #: Allocated of it to grants (net of de-commitments), in the base currency, up to the end of the period.
    allocated: Money
    unallocated: Money


@dataclass(frozen=True)
class InstalmentRow:
    due_on: date
    amount: Money


@dataclass(frozen=True)
class PledgeRow:
    pledge_id: int
    pledged_on: date
    pool_code: str
    pool_name: str
    amount: Money
    received: Money
    outstanding: Money
    state: PledgeState
    note: str
    instalments: tuple[InstalmentRow, ...]


@dataclass(frozen=True)
class DonorTotals:
    contributed: Money
    allocated: Money


@dataclass(frozen=True)
class IndicatorRow:
    """A logframe indicator of a grant: its target against what the accepted reports achieved."""

    position: int
    code: str
    name: str
    unit: str
    #: As the logframe gives it (a decimal string, may be "").
    target: str
    #: The sum of the values the accepted reports give (each reports its own period); None if none does.
    achieved: Decimal | None


@dataclass(frozen=True)
class Photo:
    """A photo of an accepted grantee report."""

    report_file_id: int
    stored_file_id: int
    caption: str
    report_number: int
    content_type: str


# -- helpers ---------------------------------------------------------------------------------------------


def _base_currency():
    return current_app.config["BASE_CURRENCY"]


def _scale(minor, numerator, denominator):
    """``minor * numerator / denominator`` rounded half to even (Fraction's round is)."""
    if denominator == 0:
        return 0
    return round(Fraction(minor * numerator, denominator))


def _in_period(day, date_from, date_to):
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def _before_end(day, date_to):
    return date_to is None or day <= date_to


class _DonorMoney:
    """Everything the figures of one donor need, read once: contributions, their allocations by grant and
    date, the nets and releases of the grants they fund."""

    def __init__(self, session, donor, date_from, date_to):
        self.donor = donor
        self.date_from, self.date_to = date_from, date_to
        self.base = _base_currency()
        query = select(Contribution).where(Contribution.donor_id == donor.id)
        if date_to is not None:
            query = query.where(Contribution.value_date <= date_to)
        self.contributions = session.scalars(query.order_by(Contribution.value_date, Contribution.id)).all()
        self._ratios = self._conversion_ratios()
        ids = [c.id for c in self.contributions]

        # Allocations of the donor's contributions, by contribution, grant and entry value date.
        self.allocated_period = defaultdict(int)  # contribution id -> minor
        self.allocated_closing = defaultdict(int)  # contribution id -> minor
        grant_ids = set()
        if ids:
            rows = session.execute(
                select(
                    Allocation.contribution_id,
                    Allocation.grant_id,
                    JournalEntry.value_date,
                    func.sum(Allocation.amount_minor),
                )
                .join(JournalEntry, JournalEntry.id == Allocation.entry_id)
                .where(Allocation.contribution_id.in_(ids))
                .group_by(Allocation.contribution_id, Allocation.grant_id, JournalEntry.value_date)
            )
            for contribution_id, grant_id, value_date, total in rows:
                grant_ids.add(grant_id)
                if _before_end(value_date, date_to):
                    self.allocated_closing[contribution_id] += int(total)
                    if _in_period(value_date, date_from, date_to):
                        self.allocated_period[contribution_id] += int(total)
        self.grant_ids = sorted(grant_ids)

        # Every key's net of those grants at the end of the period (other donors and "other funds" too:
        # they set the proportions of the releases).
        nets = defaultdict(lambda: defaultdict(int))
        released_period = defaultdict(int)
        released_to_date = defaultdict(int)
        if self.grant_ids:
            query = (
                select(Allocation.grant_id, Allocation.contribution_id, func.sum(Allocation.amount_minor))
                .join(JournalEntry, JournalEntry.id == Allocation.entry_id)
                .where(Allocation.grant_id.in_(self.grant_ids))
                .group_by(Allocation.grant_id, Allocation.contribution_id)
            )
            if date_to is not None:
                query = query.where(JournalEntry.value_date <= date_to)
            for grant_id, key, total in session.execute(query):
                nets[grant_id][key] += int(total)
            query = (
                select(Grant.id, JournalEntry.value_date, func.sum(Posting.amount_minor))
                .join(Posting, Posting.account_id == Grant.account_id)
                .join(JournalEntry, JournalEntry.id == Posting.entry_id)
                .where(Grant.id.in_(self.grant_ids), JournalEntry.kind == EntryKind.RELEASE)
                .group_by(Grant.id, JournalEntry.value_date)
            )
            for grant_id, value_date, total in session.execute(query):
                if _before_end(value_date, date_to):
                    released_to_date[grant_id] += int(total)
                    if _in_period(value_date, date_from, date_to):
                        released_period[grant_id] += int(total)
        own = set(ids)
        #: grant id -> contribution id -> minor, for the donor's contributions only
        self.attributed = defaultdict(dict)
        self.released_period = defaultdict(dict)
        self.released_to_date = defaultdict(dict)
        for grant_id in self.grant_ids:
            net = {key: minor for key, minor in nets[grant_id].items() if minor > 0}
            period = released_by_contribution(net, Money(released_period[grant_id], self.base))
            to_date = released_by_contribution(net, Money(released_to_date[grant_id], self.base))
            for key, minor in net.items():
                if key in own:
                    self.attributed[grant_id][key] = minor
                    self.released_period[grant_id][key] = period[key].minor
                    self.released_to_date[grant_id][key] = to_date[key].minor

    def _conversion_ratios(self):
        """contribution id -> (donor-currency minor, base minor): the proportion converting its base parts."""
        currency = self.donor.preferred_currency
        if currency == self.base:
            self.donor_currency = self.base
            return {c.id: (1, 1) for c in self.contributions}
        own = [c for c in self.contributions if c.currency == currency]
        if not own:
            self.donor_currency = self.base
            return {c.id: (1, 1) for c in self.contributions}
        self.donor_currency = currency
        ratios = {}
        for contribution in self.contributions:
            if contribution.currency == currency:
                reference = contribution
            else:
                earlier = [
                    c for c in own if (c.value_date, c.id) <= (contribution.value_date, contribution.id)
                ]
                reference = earlier[-1] if earlier else own[0]
            ratios[contribution.id] = (reference.amount_minor, reference.base_amount_minor)
        return ratios

    def to_donor(self, contribution_id, base_minor):
        numerator, denominator = self._ratios[contribution_id]
        return _scale(base_minor, numerator, denominator)

    def contributed_donor_minor(self, contribution):
        if contribution.currency == self.donor_currency:
            return contribution.amount_minor
        return self.to_donor(contribution.id, contribution.base_amount_minor)

    def amounts(self, by_contribution):
        """``Amounts`` of ``{contribution id: base minor}``, converted contribution by contribution."""
        base = sum(by_contribution.values())
        donor = sum(self.to_donor(key, minor) for key, minor in by_contribution.items())
        return Amounts(Money(base, self.base), Money(donor, self.donor_currency))

    def zero(self):
        return Amounts(Money.zero(self.base), Money.zero(self.donor_currency))


def _add(first, second):
    return Amounts(first.base + second.base, first.donor + second.donor)


# -- the figures -------------------------------------------------------------------------------------------


def donor_figures(session, donor, date_from=None, date_to=None):
    """The donor's key figures over the period (``DonorFigures``; see the module's docstring)."""
    money = _DonorMoney(session, donor, date_from, date_to)
    return _figures(money, _listed_grant_ids(session, money))


def _figures(money, projects):
    donor, date_from, date_to = money.donor, money.date_from, money.date_to
    base, currency = money.base, money.donor_currency
    in_period = [c for c in money.contributions if _in_period(c.value_date, date_from, date_to)]
    contributed = Amounts(
        Money(sum(c.base_amount_minor for c in in_period), base),
        Money(sum(money.contributed_donor_minor(c) for c in in_period), currency),
    )
    allocated = money.amounts(money.allocated_period)
    released = money.zero()
    for parts in money.released_period.values():
        released = _add(released, money.amounts(parts))
    balance_base = sum(c.base_amount_minor - money.allocated_closing[c.id] for c in money.contributions)
    balance_donor = sum(
        money.contributed_donor_minor(c) - money.to_donor(c.id, money.allocated_closing[c.id])
        for c in money.contributions
    )
    return DonorFigures(
        donor_reference=donor.reference,
        base_currency=base,
        donor_currency=currency,
        date_from=date_from,
        date_to=date_to,
        contributed=contributed,
        allocated=allocated,
        released=released,
        balance=Amounts(Money(balance_base, base), Money(balance_donor, currency)),
        contributions=len(in_period),
        projects=len(projects),
    )


def _listed_grant_ids(session, money):
    """The grants ``funded_projects`` lists: some of the donor's money attributed at the end of the period
    (or released), and not closed before the period began."""
    candidates = [
        grant_id
        for grant_id in money.grant_ids
        if any(money.attributed[grant_id].values()) or any(money.released_to_date[grant_id].values())
    ]
    if not candidates or money.date_from is None:
        return candidates
    closed = dict(session.execute(select(Grant.id, Grant.closed_at).where(Grant.id.in_(candidates))).all())
    return [
        grant_id
        for grant_id in candidates
        if closed[grant_id] is None or to_local(closed[grant_id]).date() >= money.date_from
    ]


def funded_projects(session, donor, date_from=None, date_to=None):
    """The grants the donor's money funds (``FundedProject`` rows, by grant reference)."""
    money = _DonorMoney(session, donor, date_from, date_to)
    return _projects(session, money, _listed_grant_ids(session, money))


def _projects(session, money, grant_ids):
    if not grant_ids:
        return []
    rows = session.execute(
        select(Grant, Organisation.name_en, Proposal.id, Proposal.theme)
        .join(Organisation, Organisation.id == Grant.organisation_id)
        .join(Proposal, Proposal.id == Grant.proposal_id)
        .where(Grant.id.in_(grant_ids))
        .order_by(Grant.reference)
    ).all()
    proposal_ids = [proposal_id for _grant, _org, proposal_id, _theme in rows]
    tags = defaultdict(lambda: defaultdict(list))
    for proposal_id, kind, code in session.execute(
        select(ProposalTag.proposal_id, ProposalTag.kind, ProposalTag.code)
        .where(ProposalTag.proposal_id.in_(proposal_ids), ProposalTag.kind.in_(["region", "gbf_target"]))
        .order_by(ProposalTag.code)
    ):
        tags[proposal_id][kind].append(code)
    species = {}
    for proposal_id, content in session.execute(
        select(ProposalSection.proposal_id, ProposalSection.content).where(
            ProposalSection.proposal_id.in_(proposal_ids), ProposalSection.key == "species"
        )
    ):
        species[proposal_id] = tuple(
            Species(
                str(row.get("scientific_name") or ""),
                str(row.get("common_name") or ""),
                str(row.get("red_list") or ""),
            )
            for row in (content or {}).get("species", [])
            if isinstance(row, dict) and (row.get("scientific_name") or row.get("common_name"))
        )
    labels = _labels(session, [Vocabulary.REGION, Vocabulary.THEME])
    result = []
    for grant, organisation, proposal_id, theme in rows:
        result.append(
            FundedProject(
                grant_id=grant.id,
                reference=grant.reference,
                title=grant.title,
                organisation=organisation,
                regions=tuple(
                    Region(code, labels.get((Vocabulary.REGION, code), code))
                    for code in tags[proposal_id]["region"]
                ),
                species=species.get(proposal_id, ()),
                theme_code=theme or "",
                theme=labels.get((Vocabulary.THEME, theme), theme or "") if theme else "",
                gbf_targets=tuple(tags[proposal_id]["gbf_target"]),
                state=grant.state,
                start_date=grant.start_date,
                end_date=grant.end_date,
                grant_amount=grant.amount,
                attributed=money.amounts(money.attributed[grant.id]),
                released=money.amounts(money.released_to_date[grant.id]),
                released_in_period=money.amounts(money.released_period[grant.id]),
            )
        )
    return result


@dataclass(frozen=True)
class DonorOverview:
    """What the donor portal's home page shows: the figures, the contributions and the funded projects."""

    figures: DonorFigures
    contributions: list
    projects: list


def donor_overview(session, donor, date_from=None, date_to=None):
    """``donor_figures``, ``contributions_of`` and ``funded_projects`` of the same period together, reading
    the donor's money once."""
    money = _DonorMoney(session, donor, date_from, date_to)
    grant_ids = _listed_grant_ids(session, money)
    return DonorOverview(
        figures=_figures(money, grant_ids),
        contributions=_contributions(session, money),
        projects=_projects(session, money, grant_ids),
    )


def _labels(session, vocabularies):
    """``{(vocabulary, code): label in the current language}``."""
    items = session.scalars(select(ReferenceItem).where(ReferenceItem.vocabulary.in_(vocabularies))).all()
    return {(Vocabulary(item.vocabulary), item.code): item.label for item in items}


def funds_project(session, donor, grant):
    """Whether any of ``donor``'s money is attributed to ``grant`` (the portal shows it then)."""
    return (
        session.scalar(
            select(Allocation.id)
            .join(Contribution, Contribution.id == Allocation.contribution_id)
            .where(Allocation.grant_id == grant.id, Contribution.donor_id == donor.id)
            .limit(1)
        )
        is not None
    )


def contributions_of(session, donor, date_from=None, date_to=None):
    """The donor's contributions with a value date in the period (``ContributionRow``, oldest first); what is
    allocated of each counts allocations up to the end of the period."""
    query = (
        select(Contribution, FundingPool.code, FundingPool.name)
        .join(FundingPool, FundingPool.id == Contribution.pool_id)
        .where(Contribution.donor_id == donor.id)
        .order_by(Contribution.value_date, Contribution.id)
    )
    if date_from is not None:
        query = query.where(Contribution.value_date >= date_from)
    if date_to is not None:
        query = query.where(Contribution.value_date <= date_to)
    rows = session.execute(query).all()
    ids = [contribution.id for contribution, _code, _name in rows]
    allocated = {}
    if ids:
        totals = (
            select(Allocation.contribution_id, func.sum(Allocation.amount_minor))
            .join(JournalEntry, JournalEntry.id == Allocation.entry_id)
            .where(Allocation.contribution_id.in_(ids))
            .group_by(Allocation.contribution_id)
        )
        if date_to is not None:
            totals = totals.where(JournalEntry.value_date <= date_to)
        allocated = {key: int(total) for key, total in session.execute(totals)}
    return _contribution_rows(rows, allocated)


def _contributions(session, money):
    """``contributions_of`` from what ``money`` has read already (plus the names of the pools)."""
    contributions = [
        c for c in money.contributions if _in_period(c.value_date, money.date_from, money.date_to)
    ]
    pools = {}
    if contributions:
        pools = {
            pool_id: (code, name)
            for pool_id, code, name in session.execute(
                select(FundingPool.id, FundingPool.code, FundingPool.name).where(
                    FundingPool.id.in_({c.pool_id for c in contributions})
                )
            )
        }
    rows = [(contribution, *pools[contribution.pool_id]) for contribution in contributions]
    return _contribution_rows(rows, money.allocated_closing)


def _contribution_rows(rows, allocated):
    """``ContributionRow``s of ``[(contribution, pool code, pool name)]``, ``allocated``: {id: base minor}."""
    result = []
    for contribution, code, name in rows:
        used = allocated.get(contribution.id, 0)
        result.append(
            ContributionRow(
                contribution_id=contribution.id,
                value_date=contribution.value_date,
                amount=contribution.amount,
                rate=Decimal(contribution.rate),
                base_amount=contribution.base_amount,
                pool_code=code,
                pool_name=name,
                pledge_id=contribution.pledge_id,
                bank_reference=contribution.bank_reference,
                allocated=Money(used, contribution.base_currency),
                unallocated=Money(contribution.base_amount_minor - used, contribution.base_currency),
            )
        )
    return result


def pledges_of(session, donor):
    """The donor's pledges with their instalments and what contributions brought (``PledgeRow``)."""
    pledges = session.execute(
        select(Pledge, FundingPool.code, FundingPool.name)
        .join(FundingPool, FundingPool.id == Pledge.pool_id)
        .options(selectinload(Pledge.instalments))
        .where(Pledge.donor_id == donor.id)
        .order_by(Pledge.pledged_on, Pledge.id)
    ).all()
    ids = [pledge.id for pledge, _code, _name in pledges]
    received = {}
    if ids:
        received = {
            (pledge_id, currency): int(total)
            for pledge_id, currency, total in session.execute(
                select(Contribution.pledge_id, Contribution.currency, func.sum(Contribution.amount_minor))
                .where(Contribution.pledge_id.in_(ids))
                .group_by(Contribution.pledge_id, Contribution.currency)
            )
        }
    result = []
    for pledge, code, name in pledges:
        got = Money(received.get((pledge.id, pledge.currency), 0), pledge.currency)
        outstanding = pledge.amount - got if pledge.state == PledgeState.OPEN else Money.zero(pledge.currency)
        result.append(
            PledgeRow(
                pledge_id=pledge.id,
                pledged_on=pledge.pledged_on,
                pool_code=code,
                pool_name=name,
                amount=pledge.amount,
                received=got,
                outstanding=max(outstanding, Money.zero(pledge.currency)),
                state=pledge.state,
                note=pledge.note,
                instalments=tuple(InstalmentRow(i.due_on, i.amount) for i in pledge.instalments),
            )
        )
    return result


def donor_totals(session, donors):
    """``{donor id: DonorTotals}`` (base currency, all time) for ``donors``, in two queries."""
    ids = [donor.id for donor in donors]
    base = _base_currency()
    if not ids:
        return {}
    contributed = dict(
        session.execute(
            select(Contribution.donor_id, func.sum(Contribution.base_amount_minor))
            .where(Contribution.donor_id.in_(ids))
            .group_by(Contribution.donor_id)
        ).all()
    )
    allocated = dict(
        session.execute(
            select(Contribution.donor_id, func.sum(Allocation.amount_minor))
            .join(Contribution, Contribution.id == Allocation.contribution_id)
            .where(Contribution.donor_id.in_(ids))
            .group_by(Contribution.donor_id)
        ).all()
    )
    return {
        donor_id: DonorTotals(
            Money(int(contributed.get(donor_id) or 0), base), Money(int(allocated.get(donor_id) or 0), base)
        )
        for donor_id in ids
    }


def _decimal(text):
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def indicators_of(session, grant_ids):
    """``{grant id: [IndicatorRow]}`` from the grants' ACCEPTED reports, in one query. Name, unit and target
    come from the latest accepted report giving the indicator; achieved is the sum of their values."""
    grant_ids = list(grant_ids)
    if not grant_ids:
        return {}
    rows = session.execute(
        select(GrantReport.grant_id, ReportIndicatorValue)
        .join(GrantReport, GrantReport.id == ReportIndicatorValue.report_id)
        .where(GrantReport.grant_id.in_(grant_ids), GrantReport.state == ReportState.ACCEPTED)
        .order_by(GrantReport.grant_id, GrantReport.number, ReportIndicatorValue.position)
    ).all()
    latest = defaultdict(dict)
    achieved = defaultdict(dict)
    for grant_id, value in rows:
        latest[grant_id][value.position] = value
        number = _decimal(value.value) if value.value else None
        if number is not None:
            achieved[grant_id][value.position] = achieved[grant_id].get(value.position, Decimal(0)) + number
    result = {grant_id: [] for grant_id in grant_ids}
    for grant_id, by_position in latest.items():
        result[grant_id] = [
            IndicatorRow(
                position=position,
                code=value.code or "",
                name=value.name,
                unit=value.unit,
                target=value.target,
                achieved=achieved[grant_id].get(position),
            )
            for position, value in sorted(by_position.items())
        ]
    return result


def photos_of(session, grant_ids):
    """``{grant id: [Photo]}``: the photos of the grants' ACCEPTED reports, oldest first, in one query."""
    grant_ids = list(grant_ids)
    if not grant_ids:
        return {}
    rows = session.execute(
        select(GrantReport.grant_id, GrantReport.number, ReportFile, StoredFile.content_type)
        .join(GrantReport, GrantReport.id == ReportFile.report_id)
        .join(StoredFile, StoredFile.id == ReportFile.stored_file_id)
        .where(
            GrantReport.grant_id.in_(grant_ids),
            GrantReport.state == ReportState.ACCEPTED,
            ReportFile.kind == ReportFileKind.PHOTO,
        )
        .order_by(GrantReport.grant_id, GrantReport.number, ReportFile.id)
    ).all()
    result = {grant_id: [] for grant_id in grant_ids}
    for grant_id, number, report_file, content_type in rows:
        result[grant_id].append(
            Photo(report_file.id, report_file.stored_file_id, report_file.caption, number, content_type)
        )
    return result


def donors_in_order(session):
    return session.scalars(select(Donor).order_by(Donor.reference)).all()
