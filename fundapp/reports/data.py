"""What the donor and portfolio reports say, as plain values: the figures, the projects, the annexes.

``donor_report_data`` and ``portfolio_report_data`` read the database and return dicts of strings, dates,
numbers and ``Money`` (nothing with ORM state), which ``fundapp.reports.documents`` hands to the PDF
templates. Labels (states, regions, themes, organisation names) are given in the report's language.

The figures are computed here, from the ledger and the stored attribution (``Allocation`` rows), by the
rules of ``fundapp.donors.allocation``, so that what a report prints provably equals the ledger (the tests
compare them). For a donor and a period ``[date_from, date_to]`` (value dates, both included):

- **contributed**: the base amounts of the donor's contributions with a value date in the period;
- **allocated**: the allocations of the donor's contributions whose commitment (or, negative,
  de-commitment) entry has a value date in the period;
- **released**: what the grants released, attributed to the donor's contributions in proportion to each
  grant's net attribution at the end of the period (``released_by_contribution``): the attributed release
  up to the period's end less the attributed release before its start, so consecutive periods add up;
- **balance**: the donor's contributions up to the period's end less their allocations up to then: the
  donor's money still in the pools, not yet committed to a grant.

Figures in the donor's currencies are worked out per contribution at that contribution's own rate
(a share of a contribution's base amount is the same share of what the donor paid), then added up per
currency: no rate is invented, and a donor who gave in two currencies sees both.

The project tables (funded projects, regions, themes, GBF targets) show what was attributed to the donor
(or, in the portfolio report, committed by the fund) up to the period's end. A project in several regions
counts once in each, and its amount is split equally between them (``Money.allocate``) so the region table
adds up to the total.
"""

import base64
import io
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from fundapp.applications.models import Proposal, ProposalSection
from fundapp.core.formatting import fund_today
from fundapp.core.money import Money
from fundapp.core.storage import StoredFile, stored_bytes
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
from fundapp.donors.models import Allocation, Contribution, Donor
from fundapp.reference.models import ReferenceItem, Vocabulary

#: A photo larger than this is scaled down before it goes into the PDF (a report has up to hundreds).
PHOTO_MAX_BYTES = 400_000
PHOTO_MAX_PIXELS = 1200
#: The narrative of the latest accepted report is cut to this many characters on a project's page.
NARRATIVE_CHARS = 1500


def _no_progress(message, percent):
    return None


# -- labels in the report's language -------------------------------------------------------------------


def _label(item, language):
    if item is None:
        return ""
    return getattr(item, f"label_{language}", None) or item.label_en


def _reference_labels(session, language):
    """``{(vocabulary, code): label}`` for the vocabularies the reports name."""
    wanted = [Vocabulary.REGION, Vocabulary.THEME, Vocabulary.GBF_TARGET, Vocabulary.STANDARD_INDICATOR]
    items = session.scalars(select(ReferenceItem).where(ReferenceItem.vocabulary.in_(wanted))).all()
    return {(item.vocabulary, item.code): _label(item, language) for item in items}


def _gbf_sort_key(code):
    return (0, int(code)) if code.isdigit() else (1, code)


def _organisation_name(organisation, language):
    return getattr(organisation, f"name_{language}", None) or organisation.name_en


def _number(value):
    """A Decimal as the reader writes it ("1,234.5"), no trailing zeros."""
    if value is None:
        return ""
    text = format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    places = len(text.split(".")[1]) if "." in text else 0
    return format_decimal(value, format="#,##0" + ("." + "#" * places if places else ""))


def _decimal(text):
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def quarter_label(day):
    return _("Q%(quarter)s %(year)s", quarter=(day.month - 1) // 3 + 1, year=day.year)


def _quarters(start, end):
    """The first days of the quarters from ``start``'s to ``end``'s."""
    day = date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
    while day <= end:
        yield day
        month = day.month + 3
        day = date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _quarter_end(first_day):
    month = first_day.month + 3
    return date(first_day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1) - timedelta(days=1)


# -- the ledger, grant by grant ------------------------------------------------------------------------


def _releases(session, grant_ids, until):
    """``[(grant id, value date, minor units)]`` of the release entries (net of reversals) up to ``until``."""
    if not grant_ids:
        return []
    rows = session.execute(
        select(Grant.id, JournalEntry.value_date, func.sum(Posting.amount_minor))
        .join(Posting, Posting.account_id == Grant.account_id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            Grant.id.in_(grant_ids), JournalEntry.kind == EntryKind.RELEASE, JournalEntry.value_date <= until
        )
        .group_by(Grant.id, JournalEntry.value_date)
        .order_by(JournalEntry.value_date)
    )
    return [(grant_id, day, int(total)) for grant_id, day, total in rows if int(total)]


def _released_until(releases, day):
    """``{grant id: minor units released up to and including day}``."""
    totals = defaultdict(int)
    for grant_id, value_date, minor in releases:
        if value_date <= day:
            totals[grant_id] += minor
    return totals


def _in_currency(contribution, base_minor):
    """``base_minor`` of ``contribution``'s base amount, in the currency the donor paid, at its rate."""
    if contribution.currency == contribution.base_currency:
        return Money(base_minor, contribution.currency)
    share = Decimal(base_minor) * Decimal(contribution.amount_minor) / Decimal(contribution.base_amount_minor)
    return Money(int(share.to_integral_value()), contribution.currency)  # half to even (default context)


# -- the donor report ----------------------------------------------------------------------------------


def default_period(session, donor, date_from=None, date_to=None):
    """The period a report covers when none is given: from the donor's first contribution (or today) to
    today."""
    date_to = date_to or fund_today()
    if date_from is None:
        first = session.scalar(
            select(func.min(Contribution.value_date)).where(Contribution.donor_id == donor.id)
        )
        date_from = min(first or date_to, date_to)
    return date_from, date_to


def donor_report_data(session, donor, date_from=None, date_to=None, *, language=None, progress=None):
    """Everything the donor report of ``donor`` for ``[date_from, date_to]`` shows (see the module's
    docstring for the rules). ``language`` defaults to the donor's; ``progress(message, percent)`` is told
    how far the per-project pages have come (percent 10 to 30)."""
    progress = progress or _no_progress
    language = language or donor.preferred_language
    date_from, date_to = default_period(session, donor, date_from, date_to)
    if date_from > date_to:
        raise ValueError("the period ends before it starts")
    base_currency = current_app.config["BASE_CURRENCY"]
    with force_locale(language):
        contributions = session.scalars(
            select(Contribution)
            .where(Contribution.donor_id == donor.id, Contribution.value_date <= date_to)
            .options(selectinload(Contribution.pool))
            .order_by(Contribution.value_date, Contribution.id)
        ).all()
        by_id = {c.id: c for c in contributions}
        # Every allocation of the grants the donor's money went to (the split of releases needs them all).
        grant_ids = set(
            session.scalars(
                select(Allocation.grant_id)
                .join(Contribution, Contribution.id == Allocation.contribution_id)
                .where(Contribution.donor_id == donor.id)
                .distinct()
            )
        )
        allocation_rows = (
            session.execute(
                select(
                    Allocation.grant_id,
                    Allocation.contribution_id,
                    Allocation.amount_minor,
                    JournalEntry.value_date,
                )
                .join(JournalEntry, JournalEntry.id == Allocation.entry_id)
                .where(Allocation.grant_id.in_(grant_ids), JournalEntry.value_date <= date_to)
                .order_by(JournalEntry.value_date, Allocation.id)
            ).all()
            if grant_ids
            else []
        )
        net = defaultdict(lambda: defaultdict(int))  # grant -> contribution -> net minor up to date_to
        allocated_in_period = defaultdict(int)  # contribution -> minor
        allocated_to_end = defaultdict(int)
        for grant_id, contribution_id, minor, value_date in allocation_rows:
            net[grant_id][contribution_id] += minor
            if contribution_id in by_id:
                allocated_to_end[contribution_id] += minor
                if value_date >= date_from:
                    allocated_in_period[contribution_id] += minor
        net = {g: {k: v for k, v in shares.items() if v} for g, shares in net.items()}

        releases = _releases(session, list(grant_ids), date_to)
        released_end = _released_until(releases, date_to)
        released_before = _released_until(releases, date_from - timedelta(days=1))

        splits = {}

        def donor_release(grant_id, released_minor):
            """``{contribution id: minor}`` of the donor's part of ``released_minor`` of the grant. A grant
            releases a few tranches, so the quarters ask for the same few amounts again: each split is made
            once."""
            key = (grant_id, released_minor)
            if key not in splits:
                shares = net.get(grant_id) or {}
                split = (
                    released_by_contribution(shares, Money(released_minor, base_currency)) if shares else {}
                )
                splits[key] = {
                    contribution: part.minor for contribution, part in split.items() if contribution in by_id
                }
            return splits[key]

        released_in_period = defaultdict(int)
        released_to_end = defaultdict(int)
        per_grant = {}
        for grant_id in grant_ids:
            end_split = donor_release(grant_id, released_end.get(grant_id, 0))
            before_split = donor_release(grant_id, released_before.get(grant_id, 0))
            for key, minor in end_split.items():
                released_to_end[key] += minor
                released_in_period[key] += minor - before_split.get(key, 0)
            committed = sum(minor for key, minor in (net.get(grant_id) or {}).items() if key in by_id)
            if committed or end_split:
                per_grant[grant_id] = {
                    "committed": Money(committed, base_currency),
                    "released": Money(sum(end_split.values()), base_currency),
                }

        in_period = [c for c in contributions if c.value_date >= date_from]
        figures = _donor_figures(
            contributions, in_period, allocated_in_period, allocated_to_end, released_in_period, base_currency
        )
        # Releases by quarter over the period, attributed to the donor.
        quarters = []
        previous = {g: sum(donor_release(g, released_before.get(g, 0)).values()) for g in grant_ids}
        for first_day in _quarters(date_from, date_to):
            upto = _released_until(releases, min(_quarter_end(first_day), date_to))
            now = {g: sum(donor_release(g, upto.get(g, 0)).values()) for g in grant_ids}
            quarters.append(
                (quarter_label(first_day), Money(sum(now.values()) - sum(previous.values()), base_currency))
            )
            previous = now
        progress(_("Gathering the projects"), 15)
        projects = project_blocks(session, per_grant, language, progress=progress)

        annex_allocations = []
        for grant_id, shares in sorted(net.items(), key=lambda item: projects["order"].get(item[0], 0)):
            split = donor_release(grant_id, released_end.get(grant_id, 0))
            for key, minor in sorted(
                shares.items(),
                key=lambda item: (by_id[item[0]].value_date, item[0]) if item[0] in by_id else (date.max, 0),
            ):
                if key not in by_id:
                    continue
                contribution = by_id[key]
                annex_allocations.append(
                    {
                        "project": projects["references"].get(grant_id, ""),
                        "contribution_date": contribution.value_date,
                        "contribution_reference": contribution.bank_reference,
                        "pool": contribution.pool.code,
                        "allocated": Money(minor, base_currency),
                        "released": Money(split.get(key, 0), base_currency),
                    }
                )

        has_activity = (
            bool(in_period) or any(allocated_in_period.values()) or any(released_in_period.values())
        )
        return {
            "kind": "donor",
            "language": language,
            "base_currency": base_currency,
            "donor": {
                "reference": donor.reference,
                "name": donor.name,
                "salutation": donor.salutation,
                "currency": donor.preferred_currency,
                "kind": str(donor.kind.label),
                "country": donor.country,
            },
            "period": {"start": date_from, "end": date_to},
            "generated_on": fund_today(),
            "has_activity": has_activity,
            "figures": figures,
            "releases_by_quarter": quarters,
            "contributions": [
                {
                    "date": c.value_date,
                    "amount": c.amount,
                    "rate": c.rate,
                    "base_amount": c.base_amount,
                    "pool": c.pool.code,
                    "pool_name": c.pool.name,
                    "bank_reference": c.bank_reference,
                }
                for c in in_period
            ],
            "allocations": annex_allocations,
            **{key: value for key, value in projects.items() if key not in ("order", "references")},
        }


def _donor_figures(contributions, in_period, allocated_in_period, allocated_to_end, released_in_period, base):
    """The key figures in the base currency and in each currency the donor paid in (the donor's first)."""

    def base_sum(minor_by_contribution):
        return Money(sum(minor_by_contribution.values()), base)

    contributed_to_end = {c.id: c.base_amount_minor for c in contributions}
    balance = {c.id: c.base_amount_minor - allocated_to_end.get(c.id, 0) for c in contributions}
    result = {
        "base": {
            "contributed": Money(sum(c.base_amount_minor for c in in_period), base),
            "allocated": base_sum(allocated_in_period),
            "released": base_sum(released_in_period),
            "balance": base_sum(balance),
            "contributed_to_date": base_sum(contributed_to_end),
            "allocated_to_date": base_sum(allocated_to_end),
        },
        "by_currency": [],
    }
    currencies = []
    for c in contributions:
        if c.currency not in currencies:
            currencies.append(c.currency)
    for currency in currencies:
        mine = [c for c in contributions if c.currency == currency]
        if currency == base:
            continue

        def total(minor_by_contribution, mine=mine, currency=currency):
            return Money.sum((_in_currency(c, minor_by_contribution.get(c.id, 0)) for c in mine), currency)

        result["by_currency"].append(
            {
                "currency": currency,
                "contributed": Money.sum((c.amount for c in mine if c in in_period), currency),
                "allocated": total(allocated_in_period),
                "released": total(released_in_period),
                "balance": total(balance),
            }
        )
    return result


# -- the projects: shared by both reports --------------------------------------------------------------


def project_blocks(session, per_grant, language, *, progress=None):
    """The funded-projects table, the regions, themes and GBF targets, and a page per project, for the
    grants of ``per_grant`` (``{grant id: {"committed": Money, "released": Money}}``: what the report
    attributes to each). Progress goes from 15 to 30 percent."""
    progress = progress or _no_progress
    labels = _reference_labels(session, language)
    base_currency = current_app.config["BASE_CURRENCY"]
    grants = (
        session.scalars(
            select(Grant)
            .where(Grant.id.in_(list(per_grant)))
            .options(
                selectinload(Grant.organisation),
                selectinload(Grant.proposal).selectinload(Proposal.tags),
            )
            .order_by(Grant.reference)
        ).all()
        if per_grant
        else []
    )
    proposal_ids = [grant.proposal_id for grant in grants]
    sections = defaultdict(dict)
    if proposal_ids:
        for proposal_id, key, content in session.execute(
            select(ProposalSection.proposal_id, ProposalSection.key, ProposalSection.content).where(
                ProposalSection.proposal_id.in_(proposal_ids), ProposalSection.key.in_(["summary", "species"])
            )
        ):
            sections[proposal_id][key] = content or {}
    indicators = _indicators(session, [grant.id for grant in grants], labels)
    narratives = _latest_narratives(session, [grant.id for grant in grants])
    photos = _photos(session, [grant.id for grant in grants])

    rows, pages = [], []
    regions = defaultdict(lambda: {"projects": 0, "amount": 0})
    themes = defaultdict(int)
    targets = defaultdict(lambda: {"projects": 0, "amount": 0})
    total = len(grants)
    for index, grant in enumerate(grants):
        amounts = per_grant[grant.id]
        tags = defaultdict(list)
        for tag in grant.proposal.tags:
            tags[tag.kind].append(tag.code)
        region_codes = sorted(tags["region"])
        region_names = [labels.get((Vocabulary.REGION, code), code) for code in region_codes]
        species_rows = sections[grant.proposal_id].get("species", {}).get("species", [])
        species = [
            " ".join(
                part
                for part in (
                    row.get("common_name", ""),
                    f"({row['scientific_name']})" if row.get("scientific_name") else "",
                )
                if part
            )
            for row in species_rows
        ] or sorted(tags["species"])
        theme = labels.get((Vocabulary.THEME, grant.proposal.theme), grant.proposal.theme or "")
        gbf_codes = sorted(tags["gbf_target"], key=_gbf_sort_key)
        row = {
            "reference": grant.reference,
            "title": grant.title,
            "organisation": _organisation_name(grant.organisation, language),
            "regions": region_names,
            "species": species,
            "theme": theme,
            "state": str(grant.state.label),
            "state_code": grant.state.value,
            "amount": amounts["committed"],
            "released": amounts["released"],
            "grant_amount": grant.amount,
            "start": grant.start_date,
            "end": grant.end_date,
        }
        rows.append(row)
        for code, part in zip(region_codes, _split(amounts["committed"], len(region_codes)), strict=True):
            regions[code]["projects"] += 1
            regions[code]["amount"] += part.minor
        themes[theme or _("No theme")] += amounts["committed"].minor
        for code in gbf_codes:
            targets[code]["projects"] += 1
            targets[code]["amount"] += amounts["committed"].minor
        pages.append(
            {
                **row,
                "summary": sections[grant.proposal_id].get("summary", {}).get("summary", ""),
                "gbf_targets": [
                    {"code": code, "label": labels.get((Vocabulary.GBF_TARGET, code), "")}
                    for code in gbf_codes
                ],
                "indicators": indicators.get(grant.id, []),
                "narrative": narratives.get(grant.id, ""),
                "photo": _photo_value(photos.get(grant.id)),
            }
        )
        if total and index % 10 == 9:
            progress(
                _("Project pages: %(done)s of %(total)s", done=index + 1, total=total),
                15 + 15 * (index + 1) // total,
            )

    region_rows = sorted(
        (
            {
                "code": code,
                "name": labels.get((Vocabulary.REGION, code), code),
                "projects": value["projects"],
                "amount": Money(value["amount"], base_currency),
            }
            for code, value in regions.items()
        ),
        key=lambda item: (-item["amount"].minor, item["name"]),
    )
    return {
        "projects": rows,
        "project_pages": pages,
        "regions": region_rows,
        "themes": [
            {"name": name, "amount": Money(minor, base_currency)}
            for name, minor in sorted(themes.items(), key=lambda item: (-item[1], item[0]))
        ],
        "gbf_targets": [
            {
                "code": code,
                "label": labels.get((Vocabulary.GBF_TARGET, code), ""),
                "projects": value["projects"],
                "amount": Money(value["amount"], base_currency),
            }
            for code, value in sorted(targets.items(), key=lambda item: _gbf_sort_key(item[0]))
        ],
        "totals": {
            "amount": Money.sum((row["amount"] for row in rows), base_currency),
            "released": Money.sum((row["released"] for row in rows), base_currency),
        },
        "order": {grant.id: index for index, grant in enumerate(grants)},
        "references": {grant.id: grant.reference for grant in grants},
    }


def _split(amount, parts):
    return amount.allocate([1] * parts) if parts else []


def _indicators(session, grant_ids, labels):
    """``{grant id: [indicator row]}``: per logframe indicator, the target (latest accepted report's) and
    what the accepted reports achieved, added up."""
    if not grant_ids:
        return {}
    rows = session.execute(
        select(
            GrantReport.grant_id,
            ReportIndicatorValue.position,
            ReportIndicatorValue.code,
            ReportIndicatorValue.name,
            ReportIndicatorValue.unit,
            ReportIndicatorValue.target,
            ReportIndicatorValue.value,
        )
        .join(GrantReport, GrantReport.id == ReportIndicatorValue.report_id)
        .where(GrantReport.grant_id.in_(grant_ids), GrantReport.state == ReportState.ACCEPTED)
        .order_by(GrantReport.grant_id, ReportIndicatorValue.position, GrantReport.number)
    )
    found = defaultdict(dict)
    for grant_id, position, code, name, unit, target, value in rows:
        entry = found[grant_id].setdefault(position, {"achieved": Decimal(0), "reported": False})
        entry["name"] = labels.get((Vocabulary.STANDARD_INDICATOR, code), "") if code else ""
        entry["name"] = entry["name"] or name or code or ""
        entry["unit"] = unit
        entry["target"] = _decimal(target)
        achieved = _decimal(value) if value else None
        if achieved is not None:
            entry["achieved"] += achieved
            entry["reported"] = True
    result = {}
    for grant_id, by_position in found.items():
        result[grant_id] = []
        for position in sorted(by_position):
            entry = by_position[position]
            target = entry["target"]
            percent = None
            if target and entry["reported"]:
                percent = int((entry["achieved"] * 100 / target).to_integral_value())
            result[grant_id].append(
                {
                    "name": entry["name"],
                    "unit": entry["unit"],
                    "target": _number(target) if target is not None else "",
                    "achieved": _number(entry["achieved"]) if entry["reported"] else "",
                    "percent": percent,
                    "bar": max(0, min(percent or 0, 100)),
                }
            )
    return result


def _latest_narratives(session, grant_ids):
    if not grant_ids:
        return {}
    rows = session.execute(
        select(GrantReport.grant_id, GrantReport.narrative)
        .where(GrantReport.grant_id.in_(grant_ids), GrantReport.state == ReportState.ACCEPTED)
        .order_by(GrantReport.grant_id, GrantReport.number)
    )
    latest = {}
    for grant_id, narrative in rows:
        if narrative and narrative.strip():
            latest[grant_id] = narrative.strip()
    return {
        grant_id: (text if len(text) <= NARRATIVE_CHARS else text[: NARRATIVE_CHARS - 1].rstrip() + "…")
        for grant_id, text in latest.items()
    }


def _photos(session, grant_ids):
    """``{grant id: (StoredFile, caption)}``: the first photo of the grant's latest accepted report."""
    if not grant_ids:
        return {}
    rows = session.execute(
        select(GrantReport.grant_id, StoredFile, ReportFile.caption)
        .join(ReportFile, ReportFile.report_id == GrantReport.id)
        .join(StoredFile, StoredFile.id == ReportFile.stored_file_id)
        .where(
            GrantReport.grant_id.in_(grant_ids),
            GrantReport.state == ReportState.ACCEPTED,
            ReportFile.kind == ReportFileKind.PHOTO,
            StoredFile.content_type.in_(["image/png", "image/jpeg"]),
        )
        .order_by(GrantReport.grant_id, GrantReport.number.desc(), ReportFile.id)
    )
    photos = {}
    for grant_id, stored, caption in rows:
        photos.setdefault(grant_id, (stored, caption))
    return photos


def _photo_value(found):
    """A photo as a ``data:`` URI (read from storage, never fetched by URL) and its caption; None if the
    file cannot be read."""
    if found is None:
        return None
    stored, caption = found
    try:
        data = stored_bytes(stored)
    except OSError:
        return None
    content_type = stored.content_type
    if len(data) > PHOTO_MAX_BYTES:
        data, content_type = _smaller(data, content_type)
    return {
        "uri": f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}",
        "caption": caption,
    }


def _smaller(data, content_type):
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((PHOTO_MAX_PIXELS, PHOTO_MAX_PIXELS))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=80)
            return out.getvalue(), "image/jpeg"
    except (OSError, ValueError):
        return data, content_type


# -- the portfolio report ------------------------------------------------------------------------------


def portfolio_report_data(session, year, *, language=None, progress=None):
    """The fund's annual report for ``year``: received (by donor), committed and released in the year,
    grants by state, and the projects the fund had committed money to by the year's end."""
    progress = progress or _no_progress
    language = language or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    base = current_app.config["BASE_CURRENCY"]
    date_from, date_to = date(year, 1, 1), date(year, 12, 31)
    with force_locale(language):
        contributions = session.scalars(
            select(Contribution)
            .where(Contribution.value_date.between(date_from, date_to))
            .options(selectinload(Contribution.donor), selectinload(Contribution.pool))
            .order_by(Contribution.value_date, Contribution.id)
        ).all()
        sums = dict(
            session.execute(
                select(JournalEntry.kind, func.sum(Posting.amount_minor))
                .join(Posting, Posting.entry_id == JournalEntry.id)
                .join(FundingPool, FundingPool.account_id == Posting.account_id)
                .where(JournalEntry.value_date.between(date_from, date_to))
                .group_by(JournalEntry.kind)
            ).all()
        )

        def pool_sum(kind):
            return -int(sums.get(kind, 0) or 0)

        received = Money(pool_sum(EntryKind.RECEIPT), base)
        committed = Money(-pool_sum(EntryKind.COMMITMENT) - pool_sum(EntryKind.DECOMMITMENT), base)
        refunded = Money(pool_sum(EntryKind.REFUND), base)

        # Per grant: net commitment and releases up to the year's end.
        grant_rows = session.execute(
            select(
                Grant.id,
                func.sum(case((JournalEntry.kind == EntryKind.RELEASE, Posting.amount_minor), else_=0)),
                func.sum(
                    case(
                        (
                            JournalEntry.kind.in_([EntryKind.COMMITMENT, EntryKind.DECOMMITMENT]),
                            -Posting.amount_minor,
                        ),
                        else_=0,
                    )
                ),
            )
            .join(Posting, Posting.account_id == Grant.account_id)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(JournalEntry.value_date <= date_to)
            .group_by(Grant.id)
        ).all()
        per_grant = {
            grant_id: {"committed": Money(int(net or 0), base), "released": Money(int(paid or 0), base)}
            for grant_id, paid, net in grant_rows
            if int(net or 0) or int(paid or 0)
        }
        releases = _releases(session, list(per_grant), date_to)
        released_in_year = sum(minor for _g, day, minor in releases if day >= date_from)
        quarters = []
        for first_day in _quarters(date_from, date_to):
            last = _quarter_end(first_day)
            quarters.append(
                (
                    quarter_label(first_day),
                    Money(sum(m for _g, day, m in releases if first_day <= day <= last), base),
                )
            )
        by_donor = defaultdict(lambda: {"name": "", "reference": "", "amount": 0, "count": 0})
        for c in contributions:
            entry = by_donor[c.donor_id]
            entry.update(name=c.donor.name, reference=c.donor.reference)
            entry["amount"] += c.base_amount_minor
            entry["count"] += 1
        from_donors = sum(entry["amount"] for entry in by_donor.values())
        states = session.execute(
            select(Grant.state, func.count(Grant.id), func.sum(Grant.amount_minor)).group_by(Grant.state)
        ).all()
        state_order = list(GrantState)
        progress(_("Gathering the projects"), 15)
        projects = project_blocks(session, per_grant, language, progress=progress)
        donors_named = {d.id: d for d in session.scalars(select(Donor).where(Donor.id.in_(list(by_donor))))}
        has_activity = bool(received or committed or released_in_year or contributions)
        return {
            "kind": "portfolio",
            "language": language,
            "base_currency": base,
            "year": year,
            "period": {"start": date_from, "end": date_to},
            "generated_on": fund_today(),
            "has_activity": has_activity,
            "figures": {
                "received": received,
                "received_from_donors": Money(from_donors, base),
                "received_otherwise": received - Money(from_donors, base),
                "refunded": refunded,
                "committed": committed,
                "released": Money(released_in_year, base),
            },
            "received_by_donor": [
                {
                    "reference": entry["reference"],
                    "name": entry["name"],
                    "country": donors_named[donor_id].country if donor_id in donors_named else "",
                    "count": entry["count"],
                    "amount": Money(entry["amount"], base),
                }
                for donor_id, entry in sorted(by_donor.items(), key=lambda item: -item[1]["amount"])
            ],
            "grants_by_state": [
                {
                    "state": str(GrantState(state).label),
                    "count": count,
                    "amount": Money(int(amount or 0), base),
                }
                for state, count, amount in sorted(
                    states, key=lambda row: state_order.index(GrantState(row[0]))
                )
            ],
            "releases_by_quarter": quarters,
            "contributions": [
                {
                    "date": c.value_date,
                    "donor": c.donor.name,
                    "amount": c.amount,
                    "rate": c.rate,
                    "base_amount": c.base_amount,
                    "pool": c.pool.code,
                    "pool_name": c.pool.name,
                    "bank_reference": c.bank_reference,
                }
                for c in contributions
            ],
            **{key: value for key, value in projects.items() if key not in ("order", "references")},
        }
