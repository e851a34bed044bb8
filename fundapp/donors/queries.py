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

from flask import current_app
from sqlalchemy import bindparam, func, select
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
from fundapp.donors.allocation import split_by_contribution
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
    """``minor * numerator / denominator`` rounded half to even, in integers."""
    if denominator == 0:
        return 0
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    whole, remainder = divmod(minor * numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and whole % 2):
        whole += 1
    return whole


def _in_period(day, date_from, date_to):
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def _before_end(day, date_to):
    return date_to is None or day <= date_to


def _among(column, ids):
    """``column IN (ids)`` with the ids (integers) written into the statement: hundreds of bound parameters
    cost the driver more to rewrite (psycopg parses every placeholder) than the database to answer."""
    return column.in_(bindparam(None, list(ids), expanding=True, literal_execute=True))


def _contributions_query(donor):
    """The donor's contributions, oldest first, as rows of plain columns with their pool's code and name."""
    return (
        select(
            Contribution.id,
            Contribution.value_date,
            Contribution.amount_minor,
            Contribution.currency,
            Contribution.rate,
            Contribution.base_amount_minor,
            Contribution.base_currency,
            Contribution.pledge_id,
            Contribution.bank_reference,
            FundingPool.code.label("pool_code"),
            FundingPool.name.label("pool_name"),
        )
        .join(FundingPool, FundingPool.id == Contribution.pool_id)
        .where(Contribution.donor_id == donor.id)
        .order_by(Contribution.value_date, Contribution.id)
    )


def _donors_part(mine, released, committed, net):
    """``{contribution id: minor}``: the donor's part of ``released`` (minor) of a grant, ``mine`` being the
    donor's nets in it. ``committed``: the grant's net commitment when the split is exact without the other
    keys (see ``_DonorMoney``), else None and ``net`` holds every key's positive net."""
    if committed is not None:
        return mine if released == committed else dict.fromkeys(mine, 0)
    return split_by_contribution(net, released, list(mine))


class _DonorMoney:
    """Everything the figures of one donor need, read once: contributions, their allocations by grant and
    date, the grants they fund with the nets and releases of those grants."""

    def __init__(self, session, donor, date_from, date_to):
        self.donor = donor
        self.date_from, self.date_to = date_from, date_to
        self.base = _base_currency()
        query = _contributions_query(donor)
        if date_to is not None:
            query = query.where(Contribution.value_date <= date_to)
        self.contributions = session.execute(query).all()
        self._ratios = self._conversion_ratios()
        ids = [c.id for c in self.contributions]

        # Allocations of the donor's contributions, by contribution, grant and entry value date.
        self.allocated_period = defaultdict(int)  # contribution id -> minor
        self.allocated_closing = defaultdict(int)  # contribution id -> minor
        own = defaultdict(lambda: defaultdict(int))  # grant id -> contribution id -> net at the end
        if ids:
            query = (
                select(
                    Allocation.contribution_id,
                    Allocation.grant_id,
                    JournalEntry.value_date,
                    func.sum(Allocation.amount_minor),
                )
                .join(JournalEntry, JournalEntry.id == Allocation.entry_id)
                .where(_among(Allocation.contribution_id, ids))
                .group_by(Allocation.contribution_id, Allocation.grant_id, JournalEntry.value_date)
            )
            for contribution_id, grant_id, value_date, total in session.execute(query):
                nets_of_grant = own[grant_id]  # a grant counts even if it drew on them after the period
                if _before_end(value_date, date_to):
                    nets_of_grant[contribution_id] += int(total)
                    self.allocated_closing[contribution_id] += int(total)
                    if _in_period(value_date, date_from, date_to):
                        self.allocated_period[contribution_id] += int(total)
        self.grant_ids = sorted(own)

        #: The grants the donor's money went to, by reference, with what ``FundedProject`` shows of them and
        #: the sum (``committed``) and the smallest of their allocations up to the end of the period.
        self.grants = []
        if self.grant_ids:
            totals = (
                select(
                    Allocation.grant_id,
                    func.sum(Allocation.amount_minor).label("committed"),
                    func.min(Allocation.amount_minor).label("smallest"),
                )
                .where(_among(Allocation.grant_id, self.grant_ids))
                .group_by(Allocation.grant_id)
            )
            if date_to is not None:
                totals = totals.join(JournalEntry, JournalEntry.id == Allocation.entry_id).where(
                    JournalEntry.value_date <= date_to
                )
            totals = totals.subquery()
            self.grants = session.execute(
                select(
                    Grant.id,
                    Grant.reference,
                    Grant.title,
                    Grant.state,
                    Grant.start_date,
                    Grant.end_date,
                    Grant.amount_minor,
                    Grant.currency,
                    Grant.account_id,
                    Grant.closed_at,
                    Grant.proposal_id,
                    # By key, one row each (PostgreSQL would join every organisation and proposal).
                    select(Organisation.name_en)
                    .where(Organisation.id == Grant.organisation_id)
                    .scalar_subquery()
                    .label("organisation"),
                    select(Proposal.theme)
                    .where(Proposal.id == Grant.proposal_id)
                    .scalar_subquery()
                    .label("theme"),
                    select(ProposalSection.content)
                    .where(ProposalSection.proposal_id == Grant.proposal_id, ProposalSection.key == "species")
                    .scalar_subquery()
                    .label("species"),
                    totals.c.committed,
                    totals.c.smallest,
                )
                .outerjoin(totals, totals.c.grant_id == Grant.id)
                .where(_among(Grant.id, self.grant_ids))
                .order_by(Grant.reference)
            ).all()

        # Released: the release postings on the grants' accounts, asked by account id (which the posting index
        # answers) rather than joined through the grants (which PostgreSQL plans as a scan of every posting of
        # the fund).
        released_period = defaultdict(int)
        released_to_date = defaultdict(int)
        if self.grants:
            grant_of_account = {grant.account_id: grant.id for grant in self.grants}
            query = (
                select(Posting.account_id, JournalEntry.value_date, func.sum(Posting.amount_minor))
                .join(JournalEntry, JournalEntry.id == Posting.entry_id)
                .where(_among(Posting.account_id, grant_of_account), JournalEntry.kind == EntryKind.RELEASE)
                .group_by(Posting.account_id, JournalEntry.value_date)
            )
            for account_id, value_date, total in session.execute(query):
                grant_id = grant_of_account[account_id]
                if _before_end(value_date, date_to):
                    released_to_date[grant_id] += int(total)
                    if _in_period(value_date, date_from, date_to):
                        released_period[grant_id] += int(total)

        # What a grant released is split over every key's positive net at the end of the period, other
        # donors' and "other funds" too: they set the proportions. The split needs none of them where it is
        # exact anyway: on a grant no de-commitment touched (its nets are all positive and add up to the sum
        # of its allocations), if nothing of that sum was released or all of it, each key's part is nothing
        # or its whole net.
        exact = {}  # grant id -> its net commitment, for the grants split without the other keys
        for grant in self.grants:
            if grant.smallest is not None and grant.smallest > 0:
                committed = int(grant.committed)
                if {released_to_date[grant.id], released_period[grant.id]} <= {0, committed}:
                    exact[grant.id] = committed
        # The nets of the others: thousands of allocations at fund scale, read as plain rows of the table's
        # columns (not ORM rows), a few hundred at a time (all at once, they set off the garbage collector
        # over and over), and added up here, which is quicker than PostgreSQL's sum of bigints (it adds them
        # up as numerics).
        nets = defaultdict(dict)
        split = [grant_id for grant_id in self.grant_ids if grant_id not in exact]
        if split:
            allocation, entry = Allocation.__table__.c, JournalEntry.__table__.c
            query = select(allocation.grant_id, allocation.contribution_id, allocation.amount_minor).where(
                _among(allocation.grant_id, split)
            )
            if date_to is not None:
                query = query.join(JournalEntry.__table__, entry.id == allocation.entry_id).where(
                    entry.value_date <= date_to
                )
            for rows in session.execute(query).partitions(200):
                for grant_id, key, minor in rows:
                    net = nets[grant_id]
                    net[key] = net.get(key, 0) + minor
            for grant_id, net in nets.items():
                if min(net.values()) <= 0:
                    nets[grant_id] = {key: minor for key, minor in net.items() if minor > 0}

        #: grant id -> contribution id -> minor, for the donor's contributions only (``released_period`` is
        #: the very dict of ``released_to_date`` when the period saw every release of the grant)
        self.attributed = defaultdict(dict)
        self.released_period = defaultdict(dict)
        self.released_to_date = defaultdict(dict)
        for grant_id in self.grant_ids:
            mine = {key: minor for key, minor in own[grant_id].items() if minor > 0}
            committed, net = exact.get(grant_id), nets[grant_id]
            self.attributed[grant_id] = mine
            self.released_to_date[grant_id] = _donors_part(mine, released_to_date[grant_id], committed, net)
            if released_period[grant_id] == released_to_date[grant_id]:
                self.released_period[grant_id] = self.released_to_date[grant_id]
            else:
                self.released_period[grant_id] = _donors_part(mine, released_period[grant_id], committed, net)

    def _conversion_ratios(self):
        """contribution id -> (donor-currency minor, base minor): the proportion converting its base parts."""
        currency = self.donor.preferred_currency
        if currency == self.base or not any(c.currency == currency for c in self.contributions):
            self.donor_currency = self.base
            return {c.id: (1, 1) for c in self.contributions}
        self.donor_currency = currency
        first = next(c for c in self.contributions if c.currency == currency)
        ratios = {}
        latest = None  # the latest contribution in the donor's currency so far (they come oldest first)
        for contribution in self.contributions:
            if contribution.currency == currency:
                latest = contribution
            reference = latest or first
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


# -- the figures -------------------------------------------------------------------------------------------


def donor_figures(session, donor, date_from=None, date_to=None):
    """The donor's key figures over the period (``DonorFigures``; see the module's docstring)."""
    money = _DonorMoney(session, donor, date_from, date_to)
    return _figures(money, _listed_grant_ids(money))


def _figures(money, projects):
    donor, date_from, date_to = money.donor, money.date_from, money.date_to
    base, currency = money.base, money.donor_currency
    in_period = [c for c in money.contributions if _in_period(c.value_date, date_from, date_to)]
    contributed = Amounts(
        Money(sum(c.base_amount_minor for c in in_period), base),
        Money(sum(money.contributed_donor_minor(c) for c in in_period), currency),
    )
    allocated = money.amounts(money.allocated_period)
    released_parts = [
        (key, minor) for parts in money.released_period.values() for key, minor in parts.items()
    ]
    released = Amounts(
        Money(sum(minor for _key, minor in released_parts), base),
        Money(sum(money.to_donor(key, minor) for key, minor in released_parts), currency),
    )
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


def _listed_grant_ids(money):
    """The grants ``funded_projects`` lists: some of the donor's money attributed at the end of the period
    (or released), and not closed before the period began."""
    return [
        grant.id
        for grant in money.grants
        if (any(money.attributed[grant.id].values()) or any(money.released_to_date[grant.id].values()))
        and (
            money.date_from is None
            or grant.closed_at is None
            or to_local(grant.closed_at).date() >= money.date_from
        )
    ]


def funded_projects(session, donor, date_from=None, date_to=None):
    """The grants the donor's money funds (``FundedProject`` rows, by grant reference)."""
    money = _DonorMoney(session, donor, date_from, date_to)
    return _projects(session, money, _listed_grant_ids(money))


def _species(content):
    """The species a proposal's "species" section names (its content, None without the section)."""
    return tuple(
        Species(
            str(row.get("scientific_name") or ""),
            str(row.get("common_name") or ""),
            str(row.get("red_list") or ""),
        )
        for row in (content or {}).get("species", [])
        if isinstance(row, dict) and (row.get("scientific_name") or row.get("common_name"))
    )


def _projects(session, money, grant_ids):
    if not grant_ids:
        return []
    listed = set(grant_ids)
    grants = [grant for grant in money.grants if grant.id in listed]  # by reference
    proposal_ids = [grant.proposal_id for grant in grants]
    tags = defaultdict(lambda: defaultdict(list))
    for proposal_id, kind, code in session.execute(
        select(ProposalTag.proposal_id, ProposalTag.kind, ProposalTag.code)
        .where(_among(ProposalTag.proposal_id, proposal_ids), ProposalTag.kind.in_(["region", "gbf_target"]))
        .order_by(ProposalTag.code)
    ):
        tags[proposal_id][kind].append(code)
    labels = _labels(session, [Vocabulary.REGION, Vocabulary.THEME])
    result = []
    for grant in grants:
        theme = grant.theme
        released = money.amounts(money.released_to_date[grant.id])
        result.append(
            FundedProject(
                grant_id=grant.id,
                reference=grant.reference,
                title=grant.title,
                organisation=grant.organisation,
                regions=tuple(
                    Region(code, labels.get((Vocabulary.REGION, code), code))
                    for code in tags[grant.proposal_id]["region"]
                ),
                species=_species(grant.species),
                theme_code=theme or "",
                theme=labels.get((Vocabulary.THEME, theme), theme or "") if theme else "",
                gbf_targets=tuple(tags[grant.proposal_id]["gbf_target"]),
                state=grant.state,
                start_date=grant.start_date,
                end_date=grant.end_date,
                grant_amount=Money(grant.amount_minor, grant.currency),
                attributed=money.amounts(money.attributed[grant.id]),
                released=released,
                released_in_period=(
                    released
                    if money.released_period[grant.id] is money.released_to_date[grant.id]
                    else money.amounts(money.released_period[grant.id])
                ),
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
    grant_ids = _listed_grant_ids(money)
    return DonorOverview(
        figures=_figures(money, grant_ids),
        contributions=_contributions(money),
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
    query = _contributions_query(donor)
    if date_from is not None:
        query = query.where(Contribution.value_date >= date_from)
    if date_to is not None:
        query = query.where(Contribution.value_date <= date_to)
    rows = session.execute(query).all()
    ids = [row.id for row in rows]
    allocated = {}
    if ids:
        totals = (
            select(Allocation.contribution_id, func.sum(Allocation.amount_minor))
            .join(JournalEntry, JournalEntry.id == Allocation.entry_id)
            .where(_among(Allocation.contribution_id, ids))
            .group_by(Allocation.contribution_id)
        )
        if date_to is not None:
            totals = totals.where(JournalEntry.value_date <= date_to)
        allocated = {key: int(total) for key, total in session.execute(totals)}
    return _contribution_rows(rows, allocated)


def _contributions(money):
    """``contributions_of`` from what ``money`` has read already."""
    rows = [c for c in money.contributions if _in_period(c.value_date, money.date_from, money.date_to)]
    return _contribution_rows(rows, money.allocated_closing)


def _contribution_rows(rows, allocated):
    """``ContributionRow``s of the rows of ``_contributions_query``, ``allocated``: {id: base minor}."""
    result = []
    for row in rows:
        used = allocated.get(row.id, 0)
        result.append(
            ContributionRow(
                contribution_id=row.id,
                value_date=row.value_date,
                amount=Money(row.amount_minor, row.currency),
                rate=Decimal(row.rate),
                base_amount=Money(row.base_amount_minor, row.base_currency),
                pool_code=row.pool_code,
                pool_name=row.pool_name,
                pledge_id=row.pledge_id,
                bank_reference=row.bank_reference,
                allocated=Money(used, row.base_currency),
                unallocated=Money(row.base_amount_minor - used, row.base_currency),
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
