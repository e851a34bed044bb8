"""The fund's grants as open data: an IATI 2.03 activity file and a 360Giving 1.4 package (JSON and CSV).

Which grants. Every grant that was signed: active, suspended, completed, terminated or closed. A grant
still in agreement (not signed, nothing committed) or cancelled (never signed) is not published.

Identifiers. An organisation is ``<FUND_ORG_ID_PREFIX>-<BIN>`` (an org-id.guide list code and the
12-digit business identification number): the fund with ``FUND_BIN``, a grantee with its own BIN. An IATI
activity is the fund's identifier, a hyphen and the grant's reference (``KZ-BIN-000000000000-IBF-2026-0001``);
a 360Giving grant is ``GRANT_360_PREFIX``, a hyphen and the reference (``360G-ibfkz-IBF-2026-0001``).

IATI codes used (2.03 codelists):

- reporting and funding organisation, the fund: OrganisationType ``FUND_IATI_ORG_TYPE`` (60 Foundation);
  grantees: 24 Partner Country based NGO (NGOs and community groups), 80 Academic, Training and Research
  (research institutes), 90 Other; donors (funding, role 1, only where the grant is attributed to their
  contributions; individuals are never named): 10 Government, 40 Multilateral, 60 Foundation,
  70 Private Sector.
- participating-org roles: 1 Funding (the fund and the donors), 3 Extending (the fund, which manages the
  grant), 4 Implementing (the grantee).
- activity-status: 2 Implementation (active), 6 Suspended, 3 Finalisation (completed or terminated:
  refunds may still come), 4 Closed.
- activity-date: 1 planned start, 3 planned end (the agreement's project period), 2 actual start (the day
  the agreement came into force), 4 actual end (closure).
- sector 41030 Biodiversity (vocabulary 1, OECD DAC CRS 5-digit); policy-marker 5 Biological Diversity,
  significance 2 (principal objective), vocabulary 1 (OECD DAC CRS); default finance type 110 (standard
  grant) and aid type C01 (project-type interventions).
- recipient-country ``FUND_COUNTRY``. IATI's recipient-region is for supranational regions, so a project's
  region (ISO 3166-2, e.g. KZ-47) is not put there: each site is a ``location`` with its name, the region's
  name and ISO code in its description (English, Russian, Kazakh), its point (WGS 84) when the proposal
  gives coordinates, exactness 1 (exact) and location-class 4 (other topographical feature). IATI's
  geographic vocabularies have no ISO 3166-2 list, so no ``administrative`` code is claimed.
- budget: type 1 (original), status 2 (committed), one per project year (IATI wants periods of a year at
  most), each the tranches planned in that year.
- transactions, one per ledger entry of the grant, so that they add up to the ledger's figures: 2 Outgoing
  Commitment at signing, and a negative one for what closure de-committed; 3 Disbursement for each
  tranche released (on its value date), and a negative disbursement for a refund by the grantee (IATI has
  no refund type; 6 and 7 are loan repayment and reimbursement, which a refund is not). A reversing entry
  is the same type with the opposite sign.

360Giving: amounts are numbers in major units; ``amountAwarded`` is the amount signed and
``amountDisbursed`` what was released less what was refunded; ``awardDate`` is the board's decision;
``beneficiaryLocation`` has one entry per region, with ``geoCode`` the ISO 3166-2 code (360Giving's
geoCodeType list has UK codes only, so the type is left out). The CSV is the same package flattened with
the standard's column titles, one row per grant; text that a spreadsheet would run as a formula is
neutralised there (the JSON keeps it exactly).
"""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from fundapp.accounts.models import OrganisationType
from fundapp.applications.models import Proposal
from fundapp.applications.screening import neutralise
from fundapp.core.db import utcnow
from fundapp.core.money import Money
from fundapp.disbursements.models import EntryKind, Grant, GrantState, JournalEntry, Posting
from fundapp.donors.models import Allocation, Contribution, Donor, DonorKind
from fundapp.extensions import db
from fundapp.reference.models import ReferenceItem, Vocabulary

#: Grants that were signed: what the fund has committed to and can publish.
PUBLISHED_STATES = (
    GrantState.ACTIVE,
    GrantState.SUSPENDED,
    GrantState.COMPLETED,
    GrantState.TERMINATED,
    GrantState.CLOSED,
)

IATI_VERSION = "2.03"
GIVING_VERSION = "1.4"

# IATI codelists (2.03).
ACTIVITY_STATUS = {
    GrantState.ACTIVE: "2",  # Implementation
    GrantState.SUSPENDED: "6",  # Suspended
    GrantState.COMPLETED: "3",  # Finalisation
    GrantState.TERMINATED: "3",
    GrantState.CLOSED: "4",  # Closed
}
GRANTEE_ORG_TYPE = {
    OrganisationType.NGO: "24",  # Partner Country based NGO
    OrganisationType.COMMUNITY_GROUP: "24",
    OrganisationType.RESEARCH_INSTITUTE: "80",  # Academic, Training and Research
    OrganisationType.OTHER: "90",  # Other
}
DONOR_ORG_TYPE = {
    DonorKind.GOVERNMENT: "10",  # Government
    DonorKind.MULTILATERAL: "40",  # Multilateral
    DonorKind.FOUNDATION: "60",  # Foundation
    DonorKind.COMPANY: "70",  # Private Sector
}
ROLE_FUNDING, ROLE_EXTENDING, ROLE_IMPLEMENTING = "1", "3", "4"
COMMITMENT, DISBURSEMENT = "2", "3"  # TransactionType
SECTOR_BIODIVERSITY = "41030"  # DAC 5-digit purpose code
POLICY_MARKER_BIODIVERSITY = "5"
SIGNIFICANCE_PRINCIPAL = "2"
WGS84 = "http://www.opengis.net/def/crs/EPSG/0/4326"

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_LANGUAGES = ("en", "ru", "kk")


# -- identifiers -----------------------------------------------------------------------------------------


def org_identifier(bin_):
    """``KZ-BIN-123456789012``: an organisation's identifier from its BIN."""
    return f"{current_app.config['FUND_ORG_ID_PREFIX']}-{bin_}"


def fund_identifier():
    return org_identifier(current_app.config["FUND_BIN"])


def iati_identifier(reference):
    return f"{fund_identifier()}-{reference}"


def giving_identifier(reference):
    return f"{current_app.config['GRANT_360_PREFIX']}-{reference}"


# -- what is published, as plain values --------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    code: str
    #: {"en": ..., "ru": ..., "kk": ...}, the languages that have a name
    names: dict

    @property
    def name(self):
        return self.names.get("en") or self.code


@dataclass(frozen=True)
class Site:
    name: str
    region: Region | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Flow:
    """One money movement of the grant, as IATI reports it."""

    transaction_type: str  # COMMITMENT or DISBURSEMENT
    day: date
    amount: Money  # negative for a de-commitment, a refund or a reversal
    description: str


@dataclass(frozen=True)
class Funder:
    identifier: str
    name: str
    iati_type: str


@dataclass(frozen=True)
class PublishedGrant:
    reference: str
    title: str
    description: str
    state: GrantState
    amount: Money
    award_date: date
    planned_start: date
    planned_end: date
    actual_start: date | None
    actual_end: date | None
    grantee_id: str
    grantee_name: str
    grantee_type: str
    programme_code: str
    programme_title: str
    modified: datetime
    regions: list = field(default_factory=list)
    sites: list = field(default_factory=list)
    flows: list = field(default_factory=list)
    budgets: list = field(default_factory=list)  # [(start, end, Money)]
    donors: list = field(default_factory=list)

    @property
    def currency(self):
        return self.amount.currency

    def total(self, transaction_type):
        return Money.sum(
            (f.amount for f in self.flows if f.transaction_type == transaction_type), self.currency
        )

    @property
    def committed(self):
        return self.total(COMMITMENT)

    @property
    def disbursed(self):
        """Released less refunded."""
        return self.total(DISBURSEMENT)


def published_count(session):
    return session.scalar(select(func.count(Grant.id)).where(Grant.state.in_(PUBLISHED_STATES)))


def published_grants(session):
    """Every published grant as a ``PublishedGrant``, by reference, in a fixed number of queries."""
    grants = session.scalars(
        select(Grant)
        .where(Grant.state.in_(PUBLISHED_STATES))
        .order_by(Grant.reference)
        .options(
            selectinload(Grant.organisation),
            selectinload(Grant.tranches),
            selectinload(Grant.proposal).selectinload(Proposal.sections),
            selectinload(Grant.agenda_item),
            selectinload(Grant.call),
            selectinload(Grant.pool),
        )
    ).all()
    if not grants:
        return []
    regions = _regions(session)
    flows, touched = _flows(session, grants)
    donors = _donors(session, [grant.id for grant in grants])
    return [
        _published(grant, regions, flows.get(grant.id, []), touched.get(grant.id), donors.get(grant.id, []))
        for grant in grants
    ]


def _regions(session):
    items = session.scalars(select(ReferenceItem).where(ReferenceItem.vocabulary == Vocabulary.REGION))
    return {
        item.code: Region(
            item.code,
            {
                language: getattr(item, f"label_{language}")
                for language in _LANGUAGES
                if getattr(item, f"label_{language}")
            },
        )
        for item in items
    }


_FLOW_KINDS = (EntryKind.COMMITMENT, EntryKind.DECOMMITMENT, EntryKind.RELEASE, EntryKind.REFUND)


def _flows(session, grants):
    """``({grant id: [Flow]}, {grant id: latest recorded_at})`` from the ledger.

    A commitment or de-commitment is what the entry moved off the grant's commitment account (credit
    negative), a release what it paid out of it, a refund what came back into the grant's pool for it:
    so the sums are exactly ``ledger.grant_figures``.
    """
    by_id = {grant.id: grant for grant in grants}
    rows = session.execute(
        select(
            JournalEntry.grant_id,
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.value_date,
            JournalEntry.recorded_at,
            JournalEntry.tranche_id,
            JournalEntry.reverses_id,
            Posting.account_id,
            Posting.amount_minor,
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(JournalEntry.grant_id.in_(by_id), JournalEntry.kind.in_(_FLOW_KINDS))
        .order_by(JournalEntry.value_date, JournalEntry.id, Posting.id)
    )
    entries = {}
    touched = {}
    for grant_id, entry_id, kind, value_date, recorded_at, tranche_id, reverses_id, account_id, minor in rows:
        grant = by_id[grant_id]
        kind = EntryKind(kind)
        touched[grant_id] = max(filter(None, (touched.get(grant_id), recorded_at)))
        if kind == EntryKind.REFUND:
            if account_id != grant.pool.account_id:
                continue
            value = minor  # the pool is credited: negative, a disbursement coming back
        elif account_id != grant.account_id:
            continue
        elif kind == EntryKind.RELEASE:
            value = minor
        else:
            value = -minor
        key = (grant_id, entry_id)
        if key not in entries:
            entries[key] = [grant_id, kind, value_date, tranche_id, reverses_id, 0]
        entries[key][5] += value
    tranche_numbers = {t.id: t.number for grant in grants for t in grant.tranches}
    flows = defaultdict(list)
    for grant_id, kind, value_date, tranche_id, reverses_id, value in entries.values():
        grant = by_id[grant_id]
        flows[grant_id].append(
            Flow(
                COMMITMENT if kind in (EntryKind.COMMITMENT, EntryKind.DECOMMITMENT) else DISBURSEMENT,
                value_date,
                Money(value, grant.currency),
                _flow_description(kind, tranche_numbers.get(tranche_id), reverses_id is not None),
            )
        )
    return flows, touched


def _flow_description(kind, tranche_number, is_reversal):
    text = {
        EntryKind.COMMITMENT: "Grant agreement signed",
        EntryKind.DECOMMITMENT: "Unspent commitment released at closure",
        EntryKind.RELEASE: f"Tranche {tranche_number} released" if tranche_number else "Tranche released",
        EntryKind.REFUND: "Refund by the grantee",
    }[kind]
    return f"Correction (reversal): {text[0].lower()}{text[1:]}" if is_reversal else text


def _donors(session, grant_ids):
    """``{grant id: [Funder]}``: the donors whose contributions the grant is attributed to (net of
    de-commitments), individuals left out."""
    rows = session.execute(
        select(Allocation.grant_id, Donor.name, Donor.kind, Donor.org_identifier)
        .join(Contribution, Contribution.id == Allocation.contribution_id)
        .join(Donor, Donor.id == Contribution.donor_id)
        .where(Allocation.grant_id.in_(grant_ids), Donor.kind != DonorKind.INDIVIDUAL)
        .group_by(Allocation.grant_id, Donor.id, Donor.name, Donor.kind, Donor.org_identifier)
        .having(func.sum(Allocation.amount_minor) > 0)
        .order_by(Allocation.grant_id, Donor.name)
    )
    donors = defaultdict(list)
    for grant_id, name, kind, identifier in rows:
        donors[grant_id].append(Funder(identifier or "", name, DONOR_ORG_TYPE.get(DonorKind(kind), "90")))
    return donors


def _local_date(instant):
    from fundapp.core.formatting import fund_today

    return fund_today(instant) if instant is not None else None


def _sites(proposal, regions):
    section = proposal.section("sites")
    rows = (section.content or {}).get("sites", []) if section is not None else []
    sites = []
    for row in rows:
        region = regions.get(row.get("region") or "")
        sites.append(
            Site(
                (row.get("name") or "").strip() or (region.name if region else ""),
                region,
                row.get("latitude"),
                row.get("longitude"),
            )
        )
    return sites


def _published(grant, regions, flows, touched, donors):
    proposal = grant.proposal
    summary = proposal.section("summary")
    description = ((summary.content or {}).get("summary") if summary is not None else "") or grant.title
    sites = _sites(proposal, regions)
    seen = {}
    for site in sites:
        if site.region is not None:
            seen.setdefault(site.region.code, site.region)
    organisation = grant.organisation
    item = grant.agenda_item
    decided = item.decided_at if item is not None and item.decided_at else grant.created_at
    activated = grant.activated_at
    instants = [grant.created_at, activated, grant.closed_at, touched]
    return PublishedGrant(
        reference=grant.reference,
        title=grant.title,
        description=description.strip(),
        state=grant.state,
        amount=grant.amount,
        award_date=_local_date(decided),
        planned_start=grant.start_date,
        planned_end=grant.end_date,
        actual_start=_local_date(activated) if activated else None,
        actual_end=_local_date(grant.closed_at) if grant.state == GrantState.CLOSED else None,
        grantee_id=org_identifier(organisation.bin),
        grantee_name=organisation.name_en,
        grantee_type=GRANTEE_ORG_TYPE.get(organisation.org_type, "90"),
        programme_code=grant.call.reference,
        programme_title=grant.call.title,
        modified=max(instant for instant in instants if instant is not None).replace(microsecond=0),
        regions=list(seen.values()),
        sites=sites,
        flows=list(flows),
        budgets=_budgets(grant),
        donors=list(donors),
    )


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def project_years(start, end):
    """``[(first day, last day)]`` of each year of the project from ``start``, the last one cut at ``end``."""
    periods = []
    first = start
    years = 1
    while first <= end:
        following = _add_years(start, years)
        periods.append((first, min(following - timedelta(days=1), end)))
        first = following
        years += 1
    return periods


def _budgets(grant):
    """The original budget by project year: the tranches planned in each year (one before the start counts
    in the first, one after the end, such as the final tranche, in the last)."""
    periods = project_years(grant.start_date, grant.end_date)
    totals = [0] * len(periods)
    for tranche in grant.tranches:
        index = next((i for i, (_s, last) in enumerate(periods) if tranche.planned_date <= last), -1)
        totals[index] += tranche.amount_minor
    if sum(totals) != grant.amount_minor:  # a schedule that does not add up: the whole amount, whole period
        return [(grant.start_date, grant.end_date, grant.amount)]
    return [
        (first, last, Money(total, grant.currency))
        for (first, last), total in zip(periods, totals, strict=True)
        if total
    ]


def _instant(value):
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


# -- IATI ------------------------------------------------------------------------------------------------


def _narratives(parent, texts):
    """One ``narrative`` per language: ``texts`` is text (English) or {language: text}."""
    if isinstance(texts, str):
        texts = {"en": texts}
    for language, text in texts.items():
        if text:
            narrative = ET.SubElement(parent, "narrative")
            if language != "en":  # English is the activity's default language (xml:lang on the activity)
                narrative.set(_XML_LANG, language)
            narrative.text = text


def _org(parent, tag, identifier, org_type, name, **attributes):
    element = ET.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attributes.items()})
    if identifier:
        element.set("ref", identifier)
    if org_type:
        element.set("type", org_type)
    _narratives(element, name)
    return element


def _value(parent, tag, amount, value_date):
    element = ET.SubElement(parent, tag, {"currency": amount.currency, "value-date": value_date.isoformat()})
    element.text = f"{amount.amount:f}"
    return element


def iati_activities(grants, *, now=None):
    """The ``<iati-activities>`` element for ``grants`` (``PublishedGrant`` values)."""
    config = current_app.config
    fund_id, fund_name, fund_type = fund_identifier(), config["FUND_NAME"], config["FUND_IATI_ORG_TYPE"]
    root = ET.Element(
        "iati-activities",
        {"version": IATI_VERSION, "generated-datetime": _instant((now or utcnow()).replace(microsecond=0))},
    )
    for grant in grants:
        activity = ET.SubElement(
            root,
            "iati-activity",
            {
                "last-updated-datetime": _instant(grant.modified),
                _XML_LANG: "en",
                "default-currency": grant.currency,
                "hierarchy": "1",
            },
        )
        ET.SubElement(activity, "iati-identifier").text = iati_identifier(grant.reference)
        _org(activity, "reporting-org", fund_id, fund_type, fund_name)
        _narratives(ET.SubElement(activity, "title"), grant.title)
        _narratives(ET.SubElement(activity, "description", {"type": "1"}), grant.description)
        _org(activity, "participating-org", fund_id, fund_type, fund_name, role=ROLE_FUNDING)
        for donor in grant.donors:
            _org(
                activity,
                "participating-org",
                donor.identifier,
                donor.iati_type,
                donor.name,
                role=ROLE_FUNDING,
            )
        _org(activity, "participating-org", fund_id, fund_type, fund_name, role=ROLE_EXTENDING)
        _org(
            activity,
            "participating-org",
            grant.grantee_id,
            grant.grantee_type,
            grant.grantee_name,
            role=ROLE_IMPLEMENTING,
        )
        ET.SubElement(activity, "activity-status", {"code": ACTIVITY_STATUS[grant.state]})
        dates = [("1", grant.planned_start), ("2", grant.actual_start), ("3", grant.planned_end)]
        dates.append(("4", grant.actual_end))
        for date_type, day in dates:
            if day is not None:
                ET.SubElement(activity, "activity-date", {"type": date_type, "iso-date": day.isoformat()})
        ET.SubElement(activity, "recipient-country", {"code": config["FUND_COUNTRY"], "percentage": "100"})
        for site in grant.sites:
            _location(activity, site)
        ET.SubElement(
            activity, "sector", {"vocabulary": "1", "code": SECTOR_BIODIVERSITY, "percentage": "100"}
        )
        ET.SubElement(
            activity,
            "policy-marker",
            {"vocabulary": "1", "code": POLICY_MARKER_BIODIVERSITY, "significance": SIGNIFICANCE_PRINCIPAL},
        )
        ET.SubElement(activity, "default-finance-type", {"code": "110"})
        ET.SubElement(activity, "default-aid-type", {"code": "C01", "vocabulary": "1"})
        for first, last, amount in grant.budgets:
            budget = ET.SubElement(activity, "budget", {"type": "1", "status": "2"})
            ET.SubElement(budget, "period-start", {"iso-date": first.isoformat()})
            ET.SubElement(budget, "period-end", {"iso-date": last.isoformat()})
            _value(budget, "value", amount, first)
        for flow in grant.flows:
            transaction = ET.SubElement(activity, "transaction")
            ET.SubElement(transaction, "transaction-type", {"code": flow.transaction_type})
            ET.SubElement(transaction, "transaction-date", {"iso-date": flow.day.isoformat()})
            _value(transaction, "value", flow.amount, flow.day)
            _narratives(ET.SubElement(transaction, "description"), flow.description)
            _org(transaction, "provider-org", fund_id, fund_type, fund_name)
            _org(transaction, "receiver-org", grant.grantee_id, grant.grantee_type, grant.grantee_name)
    return root


def _location(activity, site):
    location = ET.SubElement(activity, "location")
    ET.SubElement(location, "location-reach", {"code": "1"})  # the activity happens there
    if site.name:
        _narratives(ET.SubElement(location, "name"), site.name)
    if site.region is not None:
        _narratives(
            ET.SubElement(location, "description"),
            {
                language: f"{name} (ISO 3166-2: {site.region.code})"
                for language, name in site.region.names.items()
            },
        )
    if site.latitude is not None and site.longitude is not None:
        point = ET.SubElement(location, "point", {"srsName": WGS84})
        ET.SubElement(point, "pos").text = f"{site.latitude} {site.longitude}"
        ET.SubElement(location, "exactness", {"code": "1"})
    ET.SubElement(location, "location-class", {"code": "4"})  # other topographical feature


def iati_bytes(grants, *, now=None):
    """The IATI activity file for ``grants``: UTF-8 bytes with an XML declaration."""
    root = iati_activities(grants, now=now)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def iati_xml(session, *, now=None):
    """The IATI activity file of every published grant."""
    return iati_bytes(published_grants(session), now=now)


# -- 360Giving -------------------------------------------------------------------------------------------


def giving_grant(grant):
    """One grant of the 360Giving package (amounts as Decimals in major units)."""
    config = current_app.config
    actual = {"startDate": grant.actual_start.isoformat()} if grant.actual_start else {}
    if actual and grant.actual_end:
        actual["endDate"] = grant.actual_end.isoformat()
    record = {
        "id": giving_identifier(grant.reference),
        "title": grant.title,
        "description": grant.description,
        "currency": grant.currency,
        "amountAwarded": grant.amount.amount,
        "amountDisbursed": grant.disbursed.amount,
        "awardDate": grant.award_date.isoformat(),
        "plannedDates": [
            {"startDate": grant.planned_start.isoformat(), "endDate": grant.planned_end.isoformat()}
        ],
    }
    if actual:
        record["actualDates"] = [actual]
    record.update(
        {
            "recipientOrganization": [{"id": grant.grantee_id, "name": grant.grantee_name}],
            "fundingOrganization": [{"id": fund_identifier(), "name": config["FUND_NAME"]}],
            "grantProgramme": [{"code": grant.programme_code, "title": grant.programme_title}],
            "fromOpenCall": "Yes",  # every grant comes from a call for proposals
        }
    )
    if grant.regions:
        record["beneficiaryLocation"] = [
            {"name": region.name, "countryCode": config["FUND_COUNTRY"], "geoCode": region.code}
            for region in grant.regions
        ]
    record["dateModified"] = _instant(grant.modified)
    return record


def giving_package(session, *, now=None):
    """The 360Giving package: ``{"grants": [...], ...}`` (empty ``grants`` when nothing is published yet,
    which the standard's schema does not accept: it wants at least one grant)."""
    config = current_app.config
    return {
        "grants": [giving_grant(grant) for grant in published_grants(session)],
        "version": GIVING_VERSION,
        "modified": _instant((now or utcnow()).replace(microsecond=0)),
        "publisher": {"identifier": fund_identifier(), "name": config["FUND_NAME"]},
        "license": config["OPEN_DATA_LICENSE"],
    }


_DECIMAL_MARK = re.compile(r'"\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


def giving_json(package):
    """The package as JSON text, amounts written as exact decimal numbers (never through a float)."""
    text = json.dumps(package, ensure_ascii=False, indent=2, default=lambda value: f"\0{value:f}\0")
    return _DECIMAL_MARK.sub(r"\1", text) + "\n"


#: Columns of the flattened package: (the standard's title, how to read it from a grant).
CSV_COLUMNS = [
    ("Identifier", lambda g: g["id"]),
    ("Title", lambda g: g["title"]),
    ("Description", lambda g: g["description"]),
    ("Currency", lambda g: g["currency"]),
    ("Amount Awarded", lambda g: g["amountAwarded"]),
    ("Amount Disbursed", lambda g: g.get("amountDisbursed")),
    ("Award Date", lambda g: g["awardDate"]),
    ("Planned Dates:Start Date", lambda g: g["plannedDates"][0]["startDate"]),
    ("Planned Dates:End Date", lambda g: g["plannedDates"][0]["endDate"]),
    ("Actual Dates:Start Date", lambda g: g.get("actualDates", [{}])[0].get("startDate")),
    ("Actual Dates:End Date", lambda g: g.get("actualDates", [{}])[0].get("endDate")),
    ("Recipient Org:Identifier", lambda g: g["recipientOrganization"][0]["id"]),
    ("Recipient Org:Name", lambda g: g["recipientOrganization"][0]["name"]),
    ("Funding Org:Identifier", lambda g: g["fundingOrganization"][0]["id"]),
    ("Funding Org:Name", lambda g: g["fundingOrganization"][0]["name"]),
    ("Grant Programme:Code", lambda g: g["grantProgramme"][0]["code"]),
    ("Grant Programme:Title", lambda g: g["grantProgramme"][0]["title"]),
    ("From An Open Call?", lambda g: g.get("fromOpenCall")),
]
LOCATION_COLUMNS = [("Name", "name"), ("Country Code", "countryCode"), ("Geographic Code", "geoCode")]


def _location_titles(index):
    # The first location rolls up into the grant's row ("Beneficiary Location:Name"); more are numbered.
    head = "Beneficiary Location" if index == 0 else f"Beneficiary Location:{index}"
    return [f"{head}:{title}" for title, _key in LOCATION_COLUMNS]


def giving_csv(package):
    """The package flattened to one CSV row per grant, with the 360Giving column titles."""
    grants = package["grants"]
    locations = max((len(g.get("beneficiaryLocation", [])) for g in grants), default=1) or 1
    header = [title for title, _read in CSV_COLUMNS]
    for index in range(locations):
        header += _location_titles(index)
    header.append("Last Modified")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for grant in grants:
        row = [read(grant) for _title, read in CSV_COLUMNS]
        places = grant.get("beneficiaryLocation", [])
        for index in range(locations):
            place = places[index] if index < len(places) else {}
            row += [place.get(key) for _title, key in LOCATION_COLUMNS]
        row.append(grant["dateModified"])
        writer.writerow(["" if value is None else neutralise(_text(value)) for value in row])
    return buffer.getvalue()


def _text(value):
    return value if isinstance(value, str) else f"{value:f}" if not isinstance(value, int) else str(value)


# -- the commands: ``fundapp export iati`` and ``fundapp export 360giving`` --------------------------------


def _write(out, data, what):
    if out is None:
        click.echo(data if isinstance(data, str) else data.decode("utf-8"), nl=False)
        return
    out.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    click.echo(f"Wrote {out}: {what}.", err=True)


_OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.command("iati")
@click.option("--out", type=_OUT, help="File to write (without it, the XML goes to standard output).")
@with_appcontext
def export_iati_command(out):
    """Write the IATI 2.03 activity file: one activity per signed grant."""
    grants = published_grants(db.session)
    _write(out, iati_bytes(grants), f"{len(grants)} activities")


@click.command("360giving")
@click.option("--out", type=_OUT, help="File to write (without it, the package goes to standard output).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv"]),
    help="JSON package or flattened CSV (default: from the file's extension, else JSON).",
)
@with_appcontext
def export_360giving_command(out, fmt):
    """Write the 360Giving 1.4 package of awarded grants, as JSON or flattened CSV."""
    if fmt is None:
        fmt = "csv" if out is not None and out.suffix.lower() == ".csv" else "json"
    package = giving_package(db.session)
    text = giving_csv(package) if fmt == "csv" else giving_json(package)
    _write(out, text, f"{len(package['grants'])} grants")


def add_export_commands(group):
    """Attach ``iati`` and ``360giving`` to the ``fundapp export`` group."""
    group.add_command(export_iati_command)
    group.add_command(export_360giving_command)
