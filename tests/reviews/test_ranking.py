"""Weighted scores and the ranking of a call: hand-computed examples and properties, on either database."""

import math
import statistics
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.engine import Engine

from fundapp.applications.models import ProposalState
from fundapp.core.errors import DomainError
from fundapp.reviews.models import Assignment, AssignmentState, Recommendation, Review
from fundapp.reviews.ranking import ranking, ranking_page, weighted_score
from tests.applications.factories import make_call, make_proposal
from tests.reviews.factories import make_review, make_reviewer, make_rubric

F, FC, DNF = Recommendation.FUND, Recommendation.FUND_WITH_CHANGES, Recommendation.DO_NOT_FUND


# -- helpers ------------------------------------------------------------------------------------------------


def scored(db, proposal, reviewer, score, recommendation=F, state=AssignmentState.SUBMITTED):
    """A review of ``proposal`` by ``reviewer`` with the weighted score ``score`` (0-100), submitted."""
    assignment = Assignment(proposal_id=proposal.id, reviewer_id=reviewer.id, state=state)
    assignment.review = Review(
        recommendation=recommendation,
        weighted_score=Decimal(str(score)),
        comments="",
        version=1,
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment.review


def in_review(call, title="Seal haul-outs of the northern Caspian", **fields):
    return make_proposal(call=call, state=ProposalState.IN_REVIEW, title=title, **fields)


def by_reference(ranked):
    return {item.reference: item for item in ranked}


@contextmanager
def counted_queries():
    """The SQL statements sent to the database inside the block."""
    statements = []

    def count(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


# -- weighted scores ----------------------------------------------------------------------------------------


def test_weighted_score_places_each_score_on_its_scale_and_weighs_it():
    # weights 3, 2, 1 on 1-5: (5 - 1)/4 = 1, (4 - 1)/4 = 0.75, (3 - 1)/4 = 0.5
    # (3 * 1 + 2 * 0.75 + 1 * 0.5) / (3 + 2 + 1) * 100 = 5 / 6 * 100 = 83.3333...
    assert weighted_score([(3, 1, 5, 5), (2, 1, 5, 4), (1, 1, 5, 3)]) == Decimal("83.3333")


def test_not_applicable_is_left_out_and_the_weights_renormalised():
    # 5, N/A, 3 with weights 3, 2, 1: (3 * 1 + 1 * 0.5) / (3 + 1) * 100 = 3.5 / 4 * 100 = 87.5
    assert weighted_score([(3, 1, 5, 5), (2, 1, 5, None), (1, 1, 5, 3)]) == Decimal("87.5000")


def test_not_applicable_never_counts_as_zero():
    # With the second criterion N/A the review is the first alone: 100. Scoring it at its minimum
    # instead (the "zero" Hypha would count) gives (3 * 1 + 2 * 0) / 5 * 100 = 60.
    assert weighted_score([(3, 1, 5, 5), (2, 1, 5, None)]) == Decimal("100.0000")
    assert weighted_score([(3, 1, 5, 5), (2, 1, 5, 1)]) == Decimal("60.0000")


def test_scales_of_different_lengths_weigh_the_same():
    # 7 on 0-10 is 0.7; 1 on 1-5 is 0; equal weights: (0.7 + 0) / 2 * 100 = 35
    assert weighted_score([(1, 0, 10, 7), (1, 1, 5, 1)]) == Decimal("35.0000")


def test_weighted_score_is_rounded_half_to_even_at_four_places():
    # (2 - 1)/4 = 0.25 and two zeros, equal weights: 0.25 / 3 * 100 = 8.33333... -> 8.3333
    assert weighted_score([(1, 1, 5, 2), (1, 1, 5, 1), (1, 1, 5, 1)]) == Decimal("8.3333")
    # 1/8 * 100 = 12.5 exactly: nothing to round
    assert weighted_score([(1, 1, 9, 2)]) == Decimal("12.5000")


def test_a_review_entirely_not_applicable_is_refused(app):
    with app.test_request_context(), pytest.raises(DomainError, match="at least one criterion"):
        weighted_score([(3, 1, 5, None), (1, 1, 5, None)])


# -- the hand-computed call ---------------------------------------------------------------------------------


@pytest.fixture
def hand_call(db):
    """Three reviewers and four proposals with chosen scores (0-100):

    ============  =====  =====  =====
    proposal        A      B      C
    ============  =====  =====  =====
    P1             30     70     65
    P2             50     90      .
    P3             30     90     65
    P4             50     70      .
    ============  =====  =====  =====

    A: mean (30 + 50 + 30 + 50) / 4 = 40, population variance (100 + 100 + 100 + 100) / 4 = 100, sd 10,
       so z = -1, +1, -1, +1.
    B: mean (70 + 90 + 90 + 70) / 4 = 80, sd 10, so z = -1, +1, +1, -1.
    C: 65 twice: no variance, so z = 0 for both.

    Recommendations: P1 FC, F, F; P2 F, F; P3 DNF, F, FC; P4 DNF, FC. Disagreement thresholds: a spread of
    more than 45 points, or 30 % of the reviews on the smaller side of fund against do not fund.
    """
    call = make_call()
    make_rubric(call, disagreement_spread=45, recommendation_split_percent=30)
    a, b, c = make_reviewer(), make_reviewer(), make_reviewer()
    p1 = in_review(call, title="Saiga calving grounds")
    p2 = in_review(call, title="Snow leopard camera traps")
    p3 = in_review(call, title="Caspian seal haul-outs")
    p4 = in_review(call, title="Ili delta wetlands")
    for proposal, reviews in (
        (p1, [(a, 30, FC), (b, 70, F), (c, 65, F)]),
        (p2, [(a, 50, F), (b, 90, F)]),
        (p3, [(a, 30, DNF), (b, 90, F), (c, 65, FC)]),
        (p4, [(a, 50, DNF), (b, 70, FC)]),
    ):
        for reviewer, score, recommendation in reviews:
            scored(db, proposal, reviewer, score, recommendation)
    return call, {"P1": p1, "P2": p2, "P3": p3, "P4": p4}


def test_mean_median_stdev_and_spread_by_hand(db, hand_call):
    call, p = hand_call
    ranked = by_reference(ranking(db.session, call))
    p1, p2, p3, p4 = (ranked[p[name].reference] for name in ("P1", "P2", "P3", "P4"))

    # P1: 30, 65, 70 (odd count: the middle one is the median)
    assert p1.count == 3
    assert p1.mean == pytest.approx((30 + 70 + 65) / 3)  # 55
    assert p1.median == 65
    # deviations from 55: -25, +15, +10; squares 625 + 225 + 100 = 950; / (3 - 1) = 475
    assert p1.stdev == pytest.approx(math.sqrt(475))  # 21.794...
    assert p1.spread == 70 - 30

    # P2: 50, 90 (even count: the mean of the two middle ones)
    assert p2.count == 2
    assert p2.mean == 70
    assert p2.median == (50 + 90) / 2
    # deviations -20, +20; 400 + 400 = 800; / (2 - 1) = 800
    assert p2.stdev == pytest.approx(math.sqrt(800))  # 28.284...
    assert p2.spread == 40

    # P3: 30, 65, 90: mean 185 / 3 = 61.666...; deviations -31.667, 3.333, 28.333
    assert p3.mean == pytest.approx(185 / 3)
    assert p3.median == 65
    assert p3.stdev == pytest.approx(
        math.sqrt(((30 - 185 / 3) ** 2 + (65 - 185 / 3) ** 2 + (90 - 185 / 3) ** 2) / 2)
    )
    assert p3.spread == 60

    # P4: 50, 70: mean 60, median 60, deviations ±10: 200 / 1, sd sqrt(200) = 14.142...
    assert (p4.mean, p4.median, p4.spread) == (60, 60, 20)
    assert p4.stdev == pytest.approx(math.sqrt(200))


def test_normalised_score_averages_each_reviewers_z_scores(db, hand_call):
    call, p = hand_call
    ranked = by_reference(ranking(db.session, call))
    normalised = {name: ranked[p[name].reference].normalised for name in ("P1", "P2", "P3", "P4")}

    # z of A: (30 - 40) / 10 = -1, (50 - 40) / 10 = +1; of B: (70 - 80) / 10 = -1, (90 - 80) / 10 = +1;
    # C gave 65 both times: z = 0.
    assert normalised["P1"] == pytest.approx((-1 + -1 + 0) / 3)  # -0.667: harsh on both
    assert normalised["P2"] == pytest.approx((+1 + +1) / 2)  # +1
    assert normalised["P3"] == pytest.approx((-1 + +1 + 0) / 3, abs=1e-12)  # 0
    assert normalised["P4"] == pytest.approx((+1 + -1) / 2, abs=1e-12)  # 0


def test_ranking_by_mean_and_by_normalised_score(db, hand_call):
    call, p = hand_call
    ref = {name: proposal.reference for name, proposal in p.items()}

    by_mean = ranking(db.session, call, order_by="mean")
    by_normalised = ranking(db.session, call, order_by="normalised")

    # means: P2 70, P3 61.67, P4 60, P1 55
    assert [(item.rank, item.reference) for item in by_mean] == [
        (1, ref["P2"]),
        (2, ref["P3"]),
        (3, ref["P4"]),
        (4, ref["P1"]),
    ]
    # normalised: P2 +1, P3 0 and P4 0 share rank 2 (the higher mean first), P1 -0.667 is 4th
    assert [(item.rank, item.reference) for item in by_normalised] == [
        (1, ref["P2"]),
        (2, ref["P3"]),
        (2, ref["P4"]),
        (4, ref["P1"]),
    ]


def test_recommendations_are_counted_and_disagreement_flagged_with_reasons(db, hand_call):
    call, p = hand_call
    ranked = by_reference(ranking(db.session, call))
    p1, p2, p3, p4 = (ranked[p[name].reference] for name in ("P1", "P2", "P3", "P4"))

    assert (p1.fund, p1.fund_with_changes, p1.do_not_fund) == (2, 1, 0)
    assert (p3.fund, p3.fund_with_changes, p3.do_not_fund) == (1, 1, 1)
    # P1: spread 40 <= 45, nobody against: no flag. P2: spread 40, both fund: no flag.
    assert not p1.disagreement and p1.disagreement_reasons == ()
    assert not p2.disagreement
    # P3: spread 60 > 45; 1 of 3 against: 1 * 100 >= 30 * 3 = 90
    assert p3.disagreement
    assert p3.disagreement_reasons == (
        "Scores spread over 60.0 points (more than 45).",
        "Recommendations split: 2 to fund, 1 not to fund.",
    )
    # P4: spread 20; 1 of 2 against: 100 >= 60
    assert p4.disagreement_reasons == ("Recommendations split: 1 to fund, 1 not to fund.",)


def test_spread_equal_to_the_threshold_is_not_a_disagreement(db):
    call = make_call()
    make_rubric(call, disagreement_spread=40)
    proposal, wider = in_review(call), in_review(call)
    a, b = make_reviewer(), make_reviewer()
    scored(db, proposal, a, "40.0000")
    scored(db, proposal, b, "80.0000")  # spread 40: not more than 40
    scored(db, wider, a, "40.0000")
    scored(db, wider, b, "80.0001")  # spread 40.0001

    ranked = by_reference(ranking(db.session, call))

    assert not ranked[proposal.reference].disagreement
    assert ranked[wider.reference].disagreement


def test_a_split_below_the_threshold_share_is_not_a_disagreement(db):
    call = make_call()
    make_rubric(call, disagreement_spread=100, recommendation_split_percent=34)
    proposal = in_review(call)
    for recommendation in (F, FC, DNF):
        scored(db, proposal, make_reviewer(), 60, recommendation)

    (item,) = ranking(db.session, call)

    # 1 of 3 against: 1 * 100 = 100 < 34 * 3 = 102
    assert (item.fund + item.fund_with_changes, item.do_not_fund) == (2, 1)
    assert not item.disagreement


def test_a_reviewer_with_a_single_review_counts_as_z_zero(db):
    call = make_call()
    make_rubric(call)
    a, lone = make_reviewer(), make_reviewer()
    first, second = in_review(call), in_review(call)
    scored(db, first, a, 20)
    scored(db, second, a, 80)  # A: mean 50, sd 30: z = -1 and +1
    scored(db, second, lone, 10)  # the only review of this reviewer: z = 0, whatever the score

    ranked = by_reference(ranking(db.session, call))

    assert ranked[first.reference].normalised == pytest.approx(-1)
    assert ranked[second.reference].normalised == pytest.approx((1 + 0) / 2)
    assert ranked[second.reference].stdev == pytest.approx(math.sqrt((80 - 45) ** 2 * 2))  # 49.497...


def test_proposals_without_a_review_come_last_without_a_rank(db):
    call = make_call()
    make_rubric(call)
    reviewed, waiting = in_review(call), in_review(call)
    scored(db, reviewed, make_reviewer(), 10)

    ranked = ranking(db.session, call)

    assert [item.reference for item in ranked] == [reviewed.reference, waiting.reference]
    last = ranked[-1]
    assert (last.rank, last.count, last.mean, last.median, last.stdev, last.normalised) == (
        None,
        0,
        None,
        None,
        None,
        None,
    )
    assert not last.disagreement
    single = ranked[0]
    assert (single.rank, single.count, single.stdev, single.spread) == (1, 1, None, 0)


def test_only_submitted_reviews_of_proposals_under_review_are_ranked(db):
    call = make_call()
    make_rubric(call)
    a = make_reviewer()
    ranked_one = in_review(call)
    scored(db, ranked_one, a, 50)
    scored(db, ranked_one, make_reviewer(), 90, state=AssignmentState.ACCEPTED)  # a draft
    eligible = make_proposal(call=call, state=ProposalState.ELIGIBLE)
    withdrawn = make_proposal(call=call, state=ProposalState.WITHDRAWN)
    scored(db, withdrawn, a, 100)  # left out of A's mean too
    other_call_proposal = in_review(make_call())
    scored(db, other_call_proposal, a, 0)

    ranked = ranking(db.session, call)

    assert [item.reference for item in ranked] == [ranked_one.reference]
    assert (ranked[0].count, ranked[0].mean, ranked[0].normalised) == (1, 50, 0)
    assert eligible.reference not in {item.reference for item in ranked}


def test_a_call_without_a_rubric_uses_the_default_thresholds(db):
    call = make_call()
    proposal = in_review(call)
    scored(db, proposal, make_reviewer(), 10)
    scored(db, proposal, make_reviewer(), 36)  # spread 26 > 25

    (item,) = ranking(db.session, call)

    assert item.disagreement_reasons == ("Scores spread over 26.0 points (more than 25).",)


def test_reviews_scored_through_the_rubric_are_ranked_by_their_weighted_score(db):
    # make_rubric's criteria: weights 2 and 1 on 1-5, the second may be N/A
    call = make_call()
    make_rubric(call)
    proposal = in_review(call, complete=True)
    make_review(proposal=proposal, scores={0: 4, 1: None})  # 2 * 0.75 / 2 * 100 = 75
    make_review(proposal=proposal, scores={0: 5, 1: 1})  # (2 * 1 + 1 * 0) / 3 * 100 = 66.6667

    (item,) = ranking(db.session, call)

    assert item.count == 2
    assert item.mean == pytest.approx((75 + 66.6667) / 2)
    assert item.median == pytest.approx((75 + 66.6667) / 2)


def test_an_unknown_order_is_refused(db):
    with pytest.raises(DomainError):
        ranking(db.session, make_call(), order_by="title")


def test_an_empty_call_ranks_nothing(db):
    assert ranking(db.session, make_call()) == []


# -- a fixed number of queries ------------------------------------------------------------------------------


def _fill(db, call, reviewers, count, start):
    for index in range(count):
        proposal = in_review(call, title=f"Proposal {start + index}")
        for offset in range(3):
            reviewer = reviewers[(start + index + offset) % len(reviewers)]
            scored(db, proposal, reviewer, (start * 7 + index * 13 + offset * 29) % 101)


def test_ranking_takes_one_query_for_3_proposals_and_for_50(db):
    call = make_call()
    make_rubric(call)
    reviewers = [make_reviewer() for _ in range(6)]
    _fill(db, call, reviewers, 3, 0)
    db.session.flush()
    with counted_queries() as small:
        assert len(ranking(db.session, call)) == 3

    _fill(db, call, reviewers, 47, 3)
    db.session.flush()
    with counted_queries() as large:
        assert len(ranking(db.session, call)) == 50

    assert len(small) == len(large) == 1


# -- pages --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order_by", ["mean", "normalised"])
def test_pages_of_the_ranking_hold_the_same_ranks_as_the_whole_ranking(db, order_by):
    call = make_call()
    make_rubric(call)
    reviewers = [make_reviewer() for _ in range(5)]
    _fill(db, call, reviewers, 22, 0)
    waiting = in_review(call, title="Snow leopard camera traps")  # no review yet: last, without a rank
    db.session.flush()
    whole = ranking(db.session, call, order_by=order_by)
    pages = [ranking_page(db.session, call, order_by=order_by, page=n, per_page=10) for n in (1, 2, 3)]
    assert [len(page.items) for page in pages] == [10, 10, 3]
    assert [item for page in pages for item in page.items] == whole
    assert pages[2].items[-1].reference == waiting.reference and pages[2].items[-1].rank is None
    assert all((page.total, page.reviewed, page.pages) == (23, 22, 3) for page in pages)
    assert [page.first for page in pages] == [1, 11, 21]


def test_a_page_past_the_last_is_empty_and_still_counts_the_ranking(db):
    call = make_call()
    reviewers = [make_reviewer() for _ in range(3)]
    _fill(db, call, reviewers, 4, 0)
    db.session.flush()
    page = ranking_page(db.session, call, page=9, per_page=3)
    assert page.items == [] and (page.total, page.reviewed, page.pages) == (4, 4, 2)
    empty = ranking_page(db.session, make_call(), page=1)
    assert empty.items == [] and (empty.total, empty.reviewed, empty.pages) == (0, 0, 1)


def test_a_page_of_the_ranking_is_one_query(db):
    call = make_call()
    reviewers = [make_reviewer() for _ in range(4)]
    _fill(db, call, reviewers, 12, 0)
    db.session.flush()
    with counted_queries() as statements:
        assert len(ranking_page(db.session, call, page=2, per_page=5).items) == 5
    assert len(statements) == 1


# -- properties ---------------------------------------------------------------------------------------------

REVIEWERS = 4
PROPOSALS = 5
#: A weighted score in ten-thousandths (0 to 100.0000), or None: this reviewer does not review that proposal.
_cell = st.one_of(st.none(), st.integers(min_value=0, max_value=1_000_000))
_matrix = st.lists(
    st.lists(_cell, min_size=REVIEWERS, max_size=REVIEWERS), min_size=PROPOSALS, max_size=PROPOSALS
)


@pytest.fixture
def base(db):
    """A call with a rubric, five proposals in review and four reviewers, shared by every example."""
    call = make_call()
    make_rubric(call)
    proposals = [in_review(call, title=f"Proposal {n}") for n in range(PROPOSALS)]
    reviewers = [make_reviewer() for _ in range(REVIEWERS)]
    db.session.flush()
    return call, proposals, reviewers


def _ranked_with(db, base, matrix, order_by="normalised"):
    """The ranking with the reviews of ``matrix`` (rows: proposals, columns: reviewers) in place; the
    reviews are inserted in a savepoint, in the same order each time, and rolled back afterwards."""
    call, proposals, reviewers = base
    savepoint = db.session.begin_nested()
    try:
        for proposal, row in zip(proposals, matrix, strict=True):
            for reviewer, units in zip(reviewers, row, strict=True):
                if units is not None:
                    scored(db, proposal, reviewer, Decimal(units) / 10000)
        return ranking(db.session, call, order_by=order_by)
    finally:
        savepoint.rollback()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(matrix=_matrix, data=st.data())
def test_a_constant_added_to_one_reviewers_scores_leaves_the_normalised_ranking(db, base, matrix, data):
    column = data.draw(st.integers(min_value=0, max_value=REVIEWERS - 1), label="reviewer")
    given_scores = [row[column] for row in matrix if row[column] is not None]
    low = -min(given_scores, default=0)
    high = 1_000_000 - max(given_scores, default=0)
    shift = data.draw(st.integers(min_value=low, max_value=high), label="constant (ten-thousandths)")
    shifted = [
        [units + shift if index == column and units is not None else units for index, units in enumerate(row)]
        for row in matrix
    ]

    before = _ranked_with(db, base, matrix)
    after = _ranked_with(db, base, shifted)

    assert {item.reference: item.rank for item in before} == {item.reference: item.rank for item in after}
    after_by_reference = by_reference(after)
    for item in before:
        other = after_by_reference[item.reference].normalised
        if item.normalised is None:
            assert other is None
        else:
            assert other == pytest.approx(item.normalised, abs=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(matrix=_matrix)
def test_mean_median_and_stdev_are_the_arithmetic_ones(db, base, matrix):
    ranked = by_reference(_ranked_with(db, base, matrix, order_by="mean"))

    for proposal, row in zip(base[1], matrix, strict=True):
        scores = [Decimal(units) / 10000 for units in row if units is not None]
        item = ranked[proposal.reference]
        assert item.count == len(scores)
        if not scores:
            assert item.mean is None and item.rank is None
            continue
        assert item.mean == pytest.approx(float(sum(scores) / len(scores)), abs=1e-9)
        assert item.median == pytest.approx(float(statistics.median(scores)), abs=1e-9)
        assert item.spread == pytest.approx(float(max(scores) - min(scores)), abs=1e-9)
        if len(scores) > 1:
            assert item.stdev == pytest.approx(float(statistics.stdev(scores)), abs=1e-7)
        else:
            assert item.stdev is None
