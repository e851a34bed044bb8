"""Scores and the ranking of a call.

A review's weighted score is computed once, at submission (``weighted_score``), exactly: each scored
criterion is placed on 0-1 within its scale, weighted, and the weights renormalised over the criteria
actually scored, so a "not applicable" never counts as zero. It is stored as ``Numeric(7, 4)``.

The ranking of a call (``ranking``) is one SQL query, whatever the number of proposals, the same on SQLite
and PostgreSQL. It works on each weighted score as an integer count of ten-thousandths, so that sums,
sums of squares and the differences built from them are exact on both databases; only the last division
or square root is done in floating point (see the notes above ``_RANKING_SQL``). Per proposal it gives:

- the count of submitted reviews, their mean, median (the middle score, or the mean of the two middle
  ones), sample standard deviation (n - 1; none for a single review) and spread (highest minus lowest);
- the reviewer-normalised score: every score turned into a z-score against the reviewer who gave it
  (score minus that reviewer's mean over the call, divided by that reviewer's population standard
  deviation over the call), then averaged over the proposal's reviews. It says how far above or below
  their own habits the reviewers placed the proposal, so an applicant who drew a harsh reviewer is not
  ranked down for it. A reviewer with a single review in the call, or who gave every proposal the same
  score, says nothing about how proposals compare: their reviews count as z = 0. Because each z-score is
  computed from exact integer sums as ``(n * score - sum) / sqrt(n * sum of squares - sum²)``, adding a
  constant to every score of one reviewer leaves it exactly unchanged;
- the recommendations (fund, fund with changes, do not fund) and a disagreement flag, raised when the
  spread exceeds the rubric's ``disagreement_spread``, or when the smaller side of "fund" (with or without
  changes) against "do not fund" holds at least ``recommendation_split_percent`` of the reviews.

Only proposals in review or later (``RANKED_STATES``) are ranked, and only their submitted reviews count,
for the reviewers' means as well. Proposals without a submitted review come last, without a rank.
Proposals with equal scores share a rank (1, 2, 2, 4).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from flask_babel import gettext as _
from sqlalchemy import bindparam, text

from fundapp.applications.models import ProposalState
from fundapp.core.errors import DomainError
from fundapp.core.money import Money

SCORE_QUANTUM = Decimal("0.0001")
#: Proposal states that appear in a call's ranking.
RANKED_STATES = (
    ProposalState.IN_REVIEW,
    ProposalState.REVIEWED,
    ProposalState.ON_AGENDA,
    ProposalState.APPROVED,
    ProposalState.APPROVED_WITH_CONDITIONS,
    ProposalState.REJECTED,
    ProposalState.DEFERRED,
)
#: What a ranking can be sorted by.
ORDERS = ("mean", "normalised")
#: Thresholds used when a call has no rubric (the Rubric defaults).
DEFAULT_DISAGREEMENT_SPREAD = 25
DEFAULT_SPLIT_PERCENT = 30


def weighted_score(scored):
    """The 0-100 score of one review from ``[(weight, scale_min, scale_max, score or None for N/A)]``.

    Each score is placed on 0-1 within its scale, weighted, and divided by the sum of the weights of the
    criteria scored (N/A criteria are left out, never counted as zero). Exact, rounded half to even to
    four decimal places. Raises DomainError if every criterion is N/A (there is nothing to score).
    """
    total_weight = Decimal(0)
    total = Decimal(0)
    for weight, scale_min, scale_max, score in scored:
        if score is None:
            continue
        position = Decimal(score - scale_min) / Decimal(scale_max - scale_min)
        total += Decimal(weight) * position
        total_weight += Decimal(weight)
    if total_weight == 0:
        raise DomainError(_("Score at least one criterion: a review cannot be entirely not applicable."))
    return (total * 100 / total_weight).quantize(SCORE_QUANTUM, rounding=ROUND_HALF_EVEN)


@dataclass(slots=True)  # not frozen: frozen dataclasses take ten times as long to build, 2,000 at a time
class RankedProposal:
    """One row of a call's ranking (plain values, read-only by convention)."""

    #: 1 for the best; equal scores share a rank; None without a submitted review.
    rank: int | None
    proposal_id: int
    reference: str
    title: str
    organisation: str
    state: str
    requested_minor: int
    currency: str
    #: Submitted reviews.
    count: int
    mean: float | None
    median: float | None
    #: Sample standard deviation (n - 1); None with fewer than two reviews.
    stdev: float | None
    #: Highest minus lowest score.
    spread: float | None
    #: Mean of the reviews' z-scores against their reviewers' habits (0 = as the reviewers usually score).
    normalised: float | None
    fund: int
    fund_with_changes: int
    do_not_fund: int
    disagreement: bool
    #: Why the disagreement flag is raised, for people to read.
    disagreement_reasons: tuple = ()

    @property
    def requested(self):
        return Money(self.requested_minor, self.currency)

    @property
    def is_reviewed(self):
        return self.count > 0


# How the query is written, and why:
# - Scores are integer ten-thousandths (``u``, at most 1,000,000), so sums and sums of squares are exact on
#   both databases: squares are taken as BIGINT, and the reviewer's sum is squared as NUMERIC (on
#   PostgreSQL a BIGINT product could overflow; SQLite keeps integers and would fall back to REAL).
# - Each reviewer's root, sqrt(n * sum of squares - sum²), is computed once per reviewer, and each review's
#   z-score as (n * u - sum) / root: an exact integer over that root. (The population standard deviation is
#   root / n, the mean sum / n; n cancels.) hi > lo tells exactly whether the reviewer's scores vary.
# - CAST(... AS FLOAT) before each division: SQLite divides integers as integers. (cnt + 1) / 2 and
#   (cnt + 2) / 2 are meant as integer divisions, on both databases: the middle row numbers.
# - SQRT is PostgreSQL's own; fundapp.core.db.configure_engine registers it on SQLite.
_RANKING_SQL = """
WITH scored AS (
    SELECT p.id AS pid, a.reviewer_id AS rid, r.recommendation AS rec,
           CAST(ROUND(r.weighted_score * 10000) AS INTEGER) AS u
    FROM review r
    JOIN review_assignment a ON a.id = r.assignment_id
    JOIN proposal p ON p.id = a.proposal_id
    WHERE p.call_id = :call_id AND p.state IN :states
      AND a.state = :submitted AND r.weighted_score IS NOT NULL
),
reviewer_stats AS (
    SELECT rid, COUNT(*) AS n, SUM(u) AS su, MIN(u) AS lo, MAX(u) AS hi,
           SQRT(CAST(COUNT(*) * SUM(CAST(u AS BIGINT) * u) - CAST(SUM(u) AS NUMERIC) * SUM(u) AS FLOAT))
               AS root
    FROM scored GROUP BY rid
),
normalised AS (
    SELECT s.pid, s.u, s.rec,
           CASE WHEN rs.hi > rs.lo
                THEN CAST(rs.n * s.u - rs.su AS FLOAT) / rs.root
                ELSE 0 END AS z,
           ROW_NUMBER() OVER (PARTITION BY s.pid ORDER BY s.u) AS rn,
           COUNT(*) OVER (PARTITION BY s.pid) AS cnt
    FROM scored s JOIN reviewer_stats rs ON rs.rid = s.rid
),
per_proposal AS (
    SELECT pid, COUNT(*) AS n, SUM(u) AS su, SUM(CAST(u AS BIGINT) * u) AS suu, MIN(u) AS lo, MAX(u) AS hi,
           AVG(z) AS normalised,
           SUM(CASE WHEN rn = (cnt + 1) / 2 OR rn = (cnt + 2) / 2 THEN u ELSE 0 END) AS median_su,
           SUM(CASE WHEN rn = (cnt + 1) / 2 OR rn = (cnt + 2) / 2 THEN 1 ELSE 0 END) AS median_n,
           SUM(CASE WHEN rec = :fund THEN 1 ELSE 0 END) AS fund,
           SUM(CASE WHEN rec = :fund_with_changes THEN 1 ELSE 0 END) AS fund_with_changes,
           SUM(CASE WHEN rec = :do_not_fund THEN 1 ELSE 0 END) AS do_not_fund
    FROM normalised GROUP BY pid
),
ranked_rows AS (
    SELECT p.id AS proposal_id, p.reference, p.title, o.name_en AS organisation, p.state,
           p.requested_minor, p.currency,
           COALESCE(pp.n, 0) AS review_count,
           CAST(pp.su AS FLOAT) / CAST(pp.n * 10000 AS FLOAT) AS mean,
           CAST(pp.median_su AS FLOAT) / CAST(pp.median_n * 10000 AS FLOAT) AS median,
           CASE WHEN pp.n > 1 AND pp.n * pp.suu - pp.su * pp.su > 0
                THEN SQRT(CAST(pp.n * pp.suu - pp.su * pp.su AS FLOAT) / CAST(pp.n * (pp.n - 1) AS FLOAT))
                     / 10000
                WHEN pp.n > 1 THEN 0 END AS stdev,
           CAST(pp.hi - pp.lo AS FLOAT) / 10000 AS spread,
           pp.normalised,
           COALESCE(pp.fund, 0) AS fund,
           COALESCE(pp.fund_with_changes, 0) AS fund_with_changes,
           COALESCE(pp.do_not_fund, 0) AS do_not_fund,
           COALESCE(ru.disagreement_spread, :default_spread) AS spread_threshold,
           COALESCE(ru.recommendation_split_percent, :default_split) AS split_percent
    FROM proposal p
    JOIN organisation o ON o.id = p.organisation_id
    LEFT JOIN per_proposal pp ON pp.pid = p.id
    LEFT JOIN rubric ru ON ru.call_id = p.call_id
    WHERE p.call_id = :call_id AND p.state IN :states
)
SELECT CASE WHEN review_count > 0
            THEN RANK() OVER (ORDER BY CASE WHEN review_count > 0 THEN 0 ELSE 1 END, {key} DESC) END,
       proposal_id, reference, title, organisation, state, requested_minor, currency, review_count,
       mean, median, stdev, spread, normalised, fund, fund_with_changes, do_not_fund,
       spread_threshold, split_percent{page_columns}
FROM ranked_rows
ORDER BY CASE WHEN review_count > 0 THEN 0 ELSE 1 END, {key} DESC, {other} DESC, reference{page_limit}
"""
#: For one page of the ranking: how many proposals the whole ranking holds and how many are reviewed (window
#: functions, like the ranks, run over every row before LIMIT), and the page's rows only.
_PAGE_COLUMNS = """,
       COUNT(*) OVER () AS total, SUM(CASE WHEN review_count > 0 THEN 1 ELSE 0 END) OVER () AS reviewed"""
_PAGE_LIMIT = "\nLIMIT :limit OFFSET :offset"


def _statement(order, other, paged):
    sql = _RANKING_SQL.format(
        key=order,
        other=other,
        page_columns=_PAGE_COLUMNS if paged else "",
        page_limit=_PAGE_LIMIT if paged else "",
    )
    return text(sql).bindparams(bindparam("states", expanding=True))


_STATEMENTS = {
    (order, paged): _statement(order, other, paged)
    for order, other in (("mean", "normalised"), ("normalised", "mean"))
    for paged in (False, True)
}


def _reason_texts():
    """The two disagreement sentences, translated once per ranking (not once per proposal)."""
    return (
        _("Scores spread over %(spread)s points (more than %(threshold)d)."),
        _("Recommendations split: %(funders)d to fund, %(against)d not to fund."),
    )


def disagreement_reasons(
    spread, fund, fund_with_changes, do_not_fund, count, spread_threshold, split_percent, texts=None
):
    """Why the reviewers of one proposal disagree, as sentences; empty when they do not.

    The scores disagree when their spread is more than ``spread_threshold`` points; the recommendations
    when the smaller side of fund (with or without changes) against do not fund holds at least
    ``split_percent`` % of the ``count`` reviews. ``texts``: ``_reason_texts()``, when already at hand.
    """
    spread_text, split_text = texts or _reason_texts()
    reasons = ()
    if spread is not None and spread > spread_threshold:
        reasons += (spread_text % {"spread": f"{spread:.1f}", "threshold": spread_threshold},)
    funders = fund + fund_with_changes
    if count and min(funders, do_not_fund) * 100 >= split_percent * count:
        reasons += (split_text % {"funders": funders, "against": do_not_fund},)
    return reasons


def _float(value):
    return None if value is None else float(value)


@dataclass(frozen=True)
class RankingPage:
    """One page of a call's ranking: its rows, and how many the whole ranking holds."""

    items: list
    #: Proposals in the ranking, and how many of them have a submitted review.
    total: int
    reviewed: int
    page: int
    per_page: int

    @property
    def pages(self):
        return max(-(-self.total // self.per_page), 1)

    @property
    def first(self):
        """The position (1-based) of the page's first row in the whole ranking."""
        return (self.page - 1) * self.per_page + 1


def ranking_page(session, call, *, order_by="mean", page=1, per_page=100):
    """Page ``page`` (1-based) of ``ranking(session, call, order_by=order_by)``, ``per_page`` rows: the same
    ranks as the whole ranking, in one query that builds only the page's rows. A page past the last is
    empty (``total`` still says how many there are)."""
    rows = _ranking_rows(session, call, order_by, limit=per_page, offset=(page - 1) * per_page)
    total = reviewed = 0
    if rows:
        total, reviewed = int(rows[0][-2]), int(rows[0][-1] or 0)
    elif page > 1:
        total, reviewed = _totals(session, call, order_by)
    return RankingPage(_ranked([row[:-2] for row in rows]), total, reviewed, page, per_page)


def _totals(session, call, order_by):
    rows = _ranking_rows(session, call, order_by, limit=1, offset=0)
    return (int(rows[0][-2]), int(rows[0][-1] or 0)) if rows else (0, 0)


def ranking(session, call, *, order_by="mean"):
    """The call's proposals in review and after, ranked by ``"mean"`` or ``"normalised"`` score.

    One query, whatever the number of proposals or reviews. Returns a list of ``RankedProposal``, best
    first; proposals without a submitted review come last (rank None), then by reference.
    """
    return _ranked(_ranking_rows(session, call, order_by))


def _ranking_rows(session, call, order_by, *, limit=None, offset=0):
    if order_by not in ORDERS:
        raise DomainError(_("Rank by the mean or by the normalised score."))
    from fundapp.reviews.models import AssignmentState, Recommendation

    paged = limit is not None
    return session.execute(
        _STATEMENTS[order_by, paged],
        ({"limit": limit, "offset": offset} if paged else {})
        | {
            "call_id": call.id,
            "states": [state.value for state in RANKED_STATES],
            "submitted": AssignmentState.SUBMITTED.value,
            "fund": Recommendation.FUND.value,
            "fund_with_changes": Recommendation.FUND_WITH_CHANGES.value,
            "do_not_fund": Recommendation.DO_NOT_FUND.value,
            "default_spread": DEFAULT_DISAGREEMENT_SPREAD,
            "default_split": DEFAULT_SPLIT_PERCENT,
        },
    ).all()


def _ranked(rows):
    """``RankedProposal`` rows from the ranking query's rows."""
    texts = _reason_texts()
    ranked = []
    for (
        rank,
        proposal_id,
        reference,
        title,
        organisation,
        state,
        requested_minor,
        currency,
        count,
        mean,
        median,
        stdev,
        spread,
        normalised,
        fund,
        fund_with_changes,
        do_not_fund,
        spread_threshold,
        split_percent,
    ) in rows:
        spread = _float(spread)
        count, fund, fund_with_changes, do_not_fund = (
            int(count),
            int(fund),
            int(fund_with_changes),
            int(do_not_fund),
        )
        reasons = disagreement_reasons(
            spread,
            fund,
            fund_with_changes,
            do_not_fund,
            count,
            int(spread_threshold),
            int(split_percent),
            texts,
        )
        ranked.append(
            RankedProposal(
                None if rank is None else int(rank),
                proposal_id,
                reference,
                title,
                organisation,
                state,
                requested_minor,
                currency,
                count,
                _float(mean),
                _float(median),
                _float(stdev),
                spread,
                _float(normalised),
                fund,
                fund_with_changes,
                do_not_fund,
                bool(reasons),
                reasons,
            )
        )
    return ranked


# -- exports: the same table as the ranking page, as CSV or XLSX --------------------------------------------


def _quantized(value):
    return None if value is None else Decimal(f"{value:.4f}")


def export_header():
    return [
        _("Rank"),
        _("Reference"),
        _("Title"),
        _("Organisation"),
        _("State"),
        _("Requested"),
        _("Currency"),
        _("Reviews"),
        _("Mean"),
        _("Median"),
        _("Standard deviation"),
        _("Spread"),
        _("Normalised score"),
        _("Fund"),
        _("Fund with changes"),
        _("Do not fund"),
        _("Disagreement"),
    ]


def export_rows(ranked):
    """``ranked`` (from ``ranking``) as lists of plain, neutralised cell values: amounts as Decimals in
    major units, scores as Decimals with four decimal places, the disagreement as its reasons."""
    from fundapp.applications.screening import neutralise

    for item in ranked:
        state = ProposalState(item.state).label if item.state in set(ProposalState) else item.state
        yield [
            neutralise(value)
            for value in (
                item.rank,
                item.reference,
                item.title,
                item.organisation,
                str(state),
                item.requested.amount,
                item.currency,
                item.count,
                _quantized(item.mean),
                _quantized(item.median),
                _quantized(item.stdev),
                _quantized(item.spread),
                _quantized(item.normalised),
                item.fund,
                item.fund_with_changes,
                item.do_not_fund,
                " ".join(item.disagreement_reasons),
            )
        ]


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def csv_text(ranked):
    """The ranking as CSV text, starting with a byte-order mark (so spreadsheet programs read UTF-8)."""
    import csv
    import io

    from fundapp.applications.screening import neutralise

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(str(label)) for label in export_header()])
    for row in export_rows(ranked):
        writer.writerow([_csv_cell(value) for value in row])
    return "\ufeff" + buffer.getvalue()


def xlsx_bytes(ranked):
    """The ranking as an XLSX workbook (write-only: rows go straight to the file)."""
    import io

    from openpyxl import Workbook

    from fundapp.applications.screening import neutralise

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Ranking")[:31])
    widths = (6, 16, 48, 36, 18, 16, 9, 8, 10, 10, 10, 10, 10, 6, 8, 8, 60)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.append([neutralise(str(label)) for label in export_header()])
    for row in export_rows(ranked):
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def export_filename(call, extension):
    """``ranking-CALL-2026-01.csv``: the call's reference kept to safe characters."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in call.reference)
    return f"ranking-{safe}.{extension}"
