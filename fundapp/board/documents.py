"""The board's printed documents: the board pack a meeting reads, and the minutes it leaves behind.

Both are rendered by the core PDF helper (``fundapp.core.pdf``) from ``templates/pdf/board_pack.html`` and
``templates/pdf/minutes.html``. The ``*_context`` functions here decide what the documents show and hand
the templates plain values only (strings, numbers, lists and dicts of them): every amount, score and
instant is formatted here, in the document's locale and the fund's time zone.

Reviewers are never named in the board pack. Each proposal's submitted reviews are shown as "Reviewer A",
"Reviewer B", ... in the order they were submitted: the board weighs the reviews, not the reviewers, and a
reviewer can speak frankly without their name reaching the applicant's friends on the board.

The minutes are rendered once, when the secretary closes the meeting (``fundapp.board.operations`` stores
the bytes and their SHA-256); nothing here stores anything. Whether a motion was carried by the chair's
casting vote is worked out again from the stored votes with ``rules.decide``, so the minutes say what the
rules say.
"""

from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, replace
from decimal import Decimal

from flask import current_app, has_request_context
from flask_babel import force_locale, format_date, format_decimal, format_time, get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from fundapp.accounts.models import User
from fundapp.applications.models import ProposalVersion
from fundapp.applications.sections import BUDGET_CATEGORIES, budget_totals_of, line_total
from fundapp.board import budget, operations
from fundapp.board.models import BoardSettings, DecisionOutcome, MeetingKind
from fundapp.board.rules import decide
from fundapp.core.formatting import to_local
from fundapp.core.money import Money
from fundapp.core.pdf import render_pdf
from fundapp.extensions import db
from fundapp.reference.models import ReferenceItem, Vocabulary
from fundapp.reviews.models import Assignment, AssignmentState, Review, Rubric
from fundapp.reviews.ranking import ranking

BOARD_PACK_TEMPLATE = "pdf/board_pack.html"
MINUTES_TEMPLATE = "pdf/minutes.html"


# -- the board's rules, as the documents need them -----------------------------------------------------


@dataclass(frozen=True)
class BoardRules:
    """The board's settings as plain values (the defaults of ``BoardSettings`` when none are stored)."""

    quorum_percent: int = 50
    majority_percent: int = 50
    chair_casting_vote: bool = True
    minutes_name_votes: bool = False
    chair_id: int | None = None
    secretary_id: int | None = None


def board_rules(session):
    settings = session.scalar(select(BoardSettings).order_by(BoardSettings.id).limit(1))
    if settings is None:
        return BoardRules()
    return BoardRules(
        quorum_percent=settings.quorum_percent,
        majority_percent=settings.majority_percent,
        chair_casting_vote=settings.chair_casting_vote,
        minutes_name_votes=settings.minutes_name_votes,
        chair_id=settings.chair_id,
        secretary_id=settings.secretary_id,
    )


def _name_of(session, user_id):
    if user_id is None:
        return ""
    user = session.get(User, user_id)
    return user.full_name if user is not None else ""


# -- formatting ----------------------------------------------------------------------------------------


def _locale():
    return str(get_locale() or "en")


def _money(amount):
    return "" if amount is None else amount.format(_locale())


def _amount(money):
    """An amount without its currency, all its decimals shown ("13,500,000.50"): for tables headed by it."""
    decimals = "." + "0" * money.exponent if money.exponent else ""
    return format_decimal(money.amount, format=f"#,##0{decimals}")


def _score(value):
    """A 0-100 score with two decimals in the reader's locale ("82.50"); "" for none."""
    if value is None:
        return ""
    return format_decimal(Decimal(str(value)).quantize(Decimal("0.01")), format="#,##0.00")


def _signed(value):
    """A normalised (z) score with its sign ("+0.52", "-1.10"); "" for none."""
    if value is None:
        return ""
    return format_decimal(Decimal(str(value)).quantize(Decimal("0.01")), format="+#,##0.00;-#,##0.00")


def _when(instant):
    """An instant as the fund's wall-clock time, naming the zone: "March 12, 2026, 10:00 AM (Asia/Almaty)"."""
    if instant is None:
        return ""
    local = to_local(instant)
    return _("%(date)s, %(time)s (%(zone)s)") % {
        "date": format_date(local.date(), "long"),
        "time": format_time(local.replace(tzinfo=None), "short", rebase=False),
        "zone": current_app.config["FUND_TIMEZONE"],
    }


def _reviewer_label(index):
    """Reviewer A, B, ..., Z, AA, AB, ... for the review at ``index`` (0-based)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return _("Reviewer %(letter)s", letter=letters)


def _document_locale(locale):
    """The locale a document is rendered in: the caller's, else the request's, else the fund's default."""
    if locale is None and not has_request_context():
        locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    return locale


def _in_locale(locale):
    return nullcontext() if locale is None else force_locale(locale)


# -- what both documents say about the meeting ---------------------------------------------------------


def _meeting_values(session, meeting, rules):
    return {
        "reference": meeting.reference,
        "title": meeting.title,
        "kind": str(meeting.kind.label),
        "is_correspondence": meeting.kind == MeetingKind.CORRESPONDENCE,
        "state": str(meeting.state.label),
        "scheduled_at": _when(meeting.scheduled_at),
        "location": meeting.location or "",
        "vote_deadline": _when(meeting.vote_deadline),
        "opened_at": _when(meeting.opened_at),
        "closed_at": _when(meeting.closed_at),
        "is_closed": meeting.closed_at is not None,
        "chair": _name_of(session, rules.chair_id),
        "secretary": _name_of(session, rules.secretary_id),
    }


def _calls_of(items):
    """The calls of the agenda's proposals, each once, by reference."""
    calls = {item.proposal.call.id: item.proposal.call for item in items}
    return sorted(calls.values(), key=lambda call: call.reference)


# -- the board pack ------------------------------------------------------------------------------------


def _latest_versions(session, proposal_ids):
    """The latest submitted version of each proposal: {proposal id: ProposalVersion}."""
    if not proposal_ids:
        return {}
    latest = (
        select(ProposalVersion.proposal_id, func.max(ProposalVersion.number).label("number"))
        .where(ProposalVersion.proposal_id.in_(proposal_ids))
        .group_by(ProposalVersion.proposal_id)
        .subquery()
    )
    versions = session.scalars(
        select(ProposalVersion).join(
            latest,
            (ProposalVersion.proposal_id == latest.c.proposal_id)
            & (ProposalVersion.number == latest.c.number),
        )
    )
    return {version.proposal_id: version for version in versions}


def _section_contents(proposal, version):
    """{section key: stored content}: as last submitted, or the current sections without a version."""
    if version is not None:
        return {
            section["key"]: section.get("content") or {} for section in version.snapshot.get("sections", [])
        }
    return {section.key: section.content or {} for section in proposal.sections}


def _submitted_reviews(session, proposal_ids):
    """Submitted reviews per proposal, in the order they were submitted: {proposal id: [Review]}."""
    reviews = defaultdict(list)
    if not proposal_ids:
        return reviews
    rows = session.execute(
        select(Review, Assignment.proposal_id)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(
            Assignment.proposal_id.in_(proposal_ids),
            Assignment.state == AssignmentState.SUBMITTED,
            Review.submitted_at.is_not(None),
        )
        .options(selectinload(Review.scores))
        .order_by(Assignment.proposal_id, Review.submitted_at, Review.id)
    )
    for review, proposal_id in rows:
        reviews[proposal_id].append(review)
    return reviews


def _theme_labels(session, codes):
    codes = {code for code in codes if code}
    if not codes:
        return {}
    items = session.scalars(
        select(ReferenceItem).where(
            ReferenceItem.vocabulary == Vocabulary.THEME, ReferenceItem.code.in_(codes)
        )
    )
    return {item.code: item.label for item in items}


def _criteria_by_call(session, call_ids):
    if not call_ids:
        return {}
    rubrics = session.scalars(
        select(Rubric).where(Rubric.call_id.in_(call_ids)).options(selectinload(Rubric.criteria))
    )
    return {rubric.call_id: list(rubric.criteria) for rubric in rubrics}


def _budget_values(content, currency):
    """The budget lines and totals of a stored budget section, amounts without their currency."""
    lines = []
    for line in content.get("lines", []):
        total = line_total(line, currency)
        cofinancing = Money(line.get("cofinancing_minor") or 0, currency)
        unit_cost = line.get("unit_cost_minor")
        lines.append(
            {
                "year": line.get("year") or "",
                "category": str(BUDGET_CATEGORIES.get(line.get("category"), "")),
                "description": line.get("description") or "",
                "unit_cost": _amount(Money(unit_cost, currency)) if unit_cost is not None else "",
                "quantity": " ".join(filter(None, [str(line.get("quantity") or ""), line.get("unit") or ""])),
                "total": _amount(total),
                "cofinancing": _amount(cofinancing),
                "requested": _amount(total - cofinancing if cofinancing <= total else Money.zero(currency)),
            }
        )
    totals = budget_totals_of(content, currency)
    return lines, {name: _amount(value) for name, value in totals.items()}


def _review_values(reviews, criteria):
    """The reviews of one proposal without their reviewers: labels, scores per criterion, comments."""
    labelled = [(_reviewer_label(index), review) for index, review in enumerate(reviews)]
    by_criterion = [{score.criterion_id: score for score in review.scores} for _label, review in labelled]
    rows = []
    for criterion in criteria:
        cells = []
        for scores in by_criterion:
            score = scores.get(criterion.id)
            if score is None:
                cells.append("")
            elif score.is_na or score.score is None:
                cells.append(_("N/A"))
            else:
                cells.append(str(score.score))
        rows.append(
            {
                "title": criterion.title,
                "weight": criterion.weight,
                "scale": f"{criterion.scale_min}–{criterion.scale_max}",
                "scores": cells,
            }
        )
    return {
        "labels": [label for label, _review in labelled],
        "criteria": rows,
        "reviews": [
            {
                "label": label,
                "weighted_score": _score(review.weighted_score),
                "recommendation": str(review.recommendation.label) if review.recommendation else "",
                "comments": review.comments or "",
            }
            for label, review in labelled
        ],
    }


def _flags(row):
    if row is None:
        return []
    if not row.is_reviewed:
        return [_("No submitted review.")]
    return list(row.disagreement_reasons)


def board_pack_context(session, meeting):
    """The plain values templates/pdf/board_pack.html is rendered from."""
    rules = board_rules(session)
    items = list(meeting.items)
    proposal_ids = [item.proposal_id for item in items]
    calls = _calls_of(items)
    versions = _latest_versions(session, proposal_ids)
    reviews = _submitted_reviews(session, proposal_ids)
    criteria = _criteria_by_call(session, [call.id for call in calls])
    rankings = {call.id: ranking(session, call) for call in calls}
    rows = {row.proposal_id: row for ranked in rankings.values() for row in ranked}
    themes = _theme_labels(session, [item.proposal.theme for item in items])

    agenda, proposals = [], []
    for number, item in enumerate(items, 1):
        proposal = item.proposal
        call = proposal.call
        version = versions.get(proposal.id)
        contents = _section_contents(proposal, version)
        row = rows.get(proposal.id)
        requested = proposal.requested
        recommended = Money(item.recommended_minor, proposal.currency)
        anchor = f"item-{number}"
        agenda.append(
            {
                "number": number,
                "anchor": anchor,
                "reference": proposal.reference,
                "title": proposal.title,
                "organisation": proposal.organisation.name_en,
                "call_reference": call.reference,
                "requested": _money(requested),
                "recommended": _money(recommended),
            }
        )
        lines, totals = _budget_values(contents.get("budget", {}), proposal.currency)
        proposals.append(
            {
                "number": number,
                "anchor": anchor,
                "reference": proposal.reference,
                "title": proposal.title,
                "organisation": proposal.organisation.name_en,
                "call_reference": call.reference,
                "call_title": call.title,
                "theme": themes.get(proposal.theme, proposal.theme or ""),
                "version": version.number if version is not None else None,
                "submitted_at": _when(version.submitted_at) if version is not None else "",
                "requested": _money(requested),
                "recommended": _money(recommended),
                "cofinancing": _money(proposal.cofinancing),
                "total_cost": _money(proposal.total_cost),
                "rank": row.rank if row is not None else None,
                "ranked_count": len(rankings[call.id]),
                "review_count": row.count if row is not None else 0,
                "mean": _score(row.mean) if row is not None else "",
                "median": _score(row.median) if row is not None else "",
                "stdev": _score(row.stdev) if row is not None else "",
                "normalised": _signed(row.normalised) if row is not None else "",
                "flags": _flags(row),
                "summary": contents.get("summary", {}).get("summary", ""),
                "currency": proposal.currency,
                "budget_lines": lines,
                "budget_totals": totals,
                **_review_values(reviews.get(proposal.id, []), criteria.get(call.id, [])),
            }
        )

    ranking_tables, budget_totals = [], []
    for call in calls:
        on_agenda = [item for item in items if item.proposal.call_id == call.id]
        recommended_by_proposal = {item.proposal_id: item.recommended_minor for item in on_agenda}
        table = [row for row in rankings[call.id] if row.proposal_id in recommended_by_proposal]
        ranking_tables.append(
            {
                "reference": call.reference,
                "title": call.title,
                "ranked_count": len(rankings[call.id]),
                "rows": [
                    {
                        "rank": row.rank,
                        "reference": row.reference,
                        "title": row.title,
                        "organisation": row.organisation,
                        "requested": _money(row.requested),
                        "recommended": _money(Money(recommended_by_proposal[row.proposal_id], row.currency)),
                        "reviews": row.count,
                        "mean": _score(row.mean),
                        "normalised": _signed(row.normalised),
                        "flags": _flags(row),
                    }
                    for row in table
                ],
            }
        )
        # The pack shows what the board faced: this meeting's own approvals, once made, are left out, so
        # the pack printed after the meeting gives the same totals as the one read before it.
        decided_here = Money.sum(
            (
                Money(item.approved_minor, call.currency)
                for item in on_agenda
                if item.outcome in budget.APPROVING and item.approved_minor
            ),
            call.currency,
        )
        committed = budget.committed(session, call) - decided_here
        available = call.envelope - committed
        requested = Money.sum((item.proposal.requested for item in on_agenda), call.currency)
        recommended = Money.sum(
            (Money(item.recommended_minor, call.currency) for item in on_agenda), call.currency
        )
        after = available - recommended
        budget_totals.append(
            {
                "reference": call.reference,
                "title": call.title,
                "items": len(on_agenda),
                "envelope": _money(call.envelope),
                "committed": _money(committed),
                "available": _money(available),
                "requested": _money(requested),
                "recommended": _money(recommended),
                "after_recommended": _money(after),
                "decided_here": bool(decided_here),
                "overcommitted": after.minor < 0,
                "shortfall": _money(-after) if after.minor < 0 else "",
            }
        )

    return {
        "title": _("Board pack: %(title)s", title=meeting.title),
        "reference": meeting.reference,
        "meeting": _meeting_values(session, meeting, rules),
        "agenda": agenda,
        "rankings": ranking_tables,
        "budget_totals": budget_totals,
        "proposals": proposals,
    }


def render_board_pack(meeting, *, locale=None):
    """The board pack of ``meeting`` as PDF bytes (reads through the app's database session)."""
    locale = _document_locale(locale)
    with _in_locale(locale):
        context = board_pack_context(db.session, meeting)
        return render_pdf(BOARD_PACK_TEMPLATE, locale=locale, **context)


# -- the minutes ---------------------------------------------------------------------------------------


def _item_decision(session, item, rules, present_ids):
    """What the minutes record about one agenda item.

    The votes are counted as the decision counted them (``operations.tally_item``: recused members' and,
    at a meeting, absent members' votes left out); the eligible and participating counts recorded with
    the decision win over today's membership. ``rules.decide`` says again whether a tie went to the chair.
    """
    proposal = item.proposal
    currency = proposal.currency
    recused = sorted(
        (conflict.user for conflict in item.conflicts), key=lambda user: (user.full_name, user.id)
    )
    recused_ids = {user.id for user in recused}
    tally = operations.tally_item(session, item, rules)
    tally = replace(
        tally,
        eligible=tally.eligible if item.eligible_count is None else item.eligible_count,
        participating=tally.participating if item.participating_count is None else item.participating_count,
    )
    result = decide(
        tally,
        quorum_percent=rules.quorum_percent,
        majority_percent=rules.majority_percent,
        chair_casting_vote=rules.chair_casting_vote,
    )
    counted = [
        vote
        for vote in item.votes
        if vote.user_id not in recused_ids
        and (item.meeting.kind == MeetingKind.CORRESPONDENCE or vote.user_id in present_ids)
    ]
    counted.sort(key=lambda vote: (vote.user.full_name, vote.user.id))
    outcome = item.outcome
    return {
        "reference": proposal.reference,
        "title": proposal.title,
        "organisation": proposal.organisation.name_en,
        "call_reference": proposal.call.reference,
        "requested": _money(proposal.requested),
        "recommended": _money(Money(item.recommended_minor, currency)),
        "motion_amount": _money(Money(item.motion_amount_minor, currency))
        if item.motion_amount_minor is not None
        else "",
        "recused": [user.full_name for user in recused],
        "eligible": tally.eligible,
        "participating": tally.participating,
        "quorate": result.quorate,
        "approve": tally.approve,
        "reject": tally.reject,
        "abstain": tally.abstain,
        "named_votes": [{"name": vote.user.full_name, "choice": str(vote.choice.label)} for vote in counted]
        if rules.minutes_name_votes
        else [],
        "casting_vote_used": result.casting_vote_used,
        "casting_vote_approves": result.casting_vote_used and result.passed,
        "decided": outcome is not None,
        "outcome": outcome.value if outcome is not None else "",
        "outcome_label": str(outcome.label) if outcome is not None else "",
        "approved_amount": _money(item.approved_amount),
        "conditions": item.conditions or "",
        "reason": item.reason or "",
        "decided_at": _when(item.decided_at),
    }


def minutes_context(session, meeting):
    """The plain values templates/pdf/minutes.html is rendered from."""
    rules = board_rules(session)
    items = list(meeting.items)
    is_correspondence = meeting.kind == MeetingKind.CORRESPONDENCE
    # Everyone who was a member for the meeting: today's members, and whoever attended or voted.
    members = {member.id: member for member in operations.board_members(session)}
    for row in meeting.attendance:
        members.setdefault(row.user_id, row.user)
    for item in items:
        for vote in item.votes:
            members.setdefault(vote.user_id, vote.user)
    by_name = sorted(members.values(), key=lambda user: (user.full_name, user.id))
    if is_correspondence:  # taking part in a written vote is voting
        present_ids = {vote.user_id for item in items for vote in item.votes}
    else:
        present_ids = operations.present_member_ids(meeting)

    decisions = [_item_decision(session, item, rules, present_ids) for item in items]
    for number, decision in enumerate(decisions, 1):
        decision["number"] = number

    totals = []
    for call in _calls_of(items):
        approved = [
            item
            for item in items
            if item.proposal.call_id == call.id and item.outcome in budget.APPROVING and item.approved_minor
        ]
        committed = budget.committed(session, call)
        totals.append(
            {
                "reference": call.reference,
                "title": call.title,
                "approved_count": len(approved),
                "approved": _money(
                    Money.sum((Money(item.approved_minor, call.currency) for item in approved), call.currency)
                ),
                "envelope": _money(call.envelope),
                "committed": _money(committed),
                "available": _money(call.envelope - committed),
            }
        )

    return {
        "title": _("Minutes: %(title)s", title=meeting.title),
        "reference": meeting.reference,
        "meeting": _meeting_values(session, meeting, rules),
        "present": [user.full_name for user in by_name if user.id in present_ids],
        "absent": [user.full_name for user in by_name if user.id not in present_ids],
        "rules": {
            "quorum_percent": rules.quorum_percent,
            "majority_percent": rules.majority_percent,
            "chair_casting_vote": rules.chair_casting_vote,
            "minutes_name_votes": rules.minutes_name_votes,
        },
        "items": decisions,
        "totals": totals,
        "outcomes": {outcome.name: outcome.value for outcome in DecisionOutcome},
    }


def render_minutes(meeting, *, locale=None):
    """The minutes of ``meeting`` as PDF bytes (reads through the app's database session; stores nothing)."""
    locale = _document_locale(locale)
    with _in_locale(locale):
        context = minutes_context(db.session, meeting)
        return render_pdf(MINUTES_TEMPLATE, locale=locale, **context)
