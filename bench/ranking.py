"""How long ranking a large call takes: ``fundapp.reviews.ranking.ranking`` on N proposals x 3 reviews.

    .venv/bin/python bench/ranking.py                                   # a throwaway SQLite file
    .venv/bin/python bench/ranking.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/ranking.py --proposals 5000 --runs 50

With a PostgreSQL URL the script connects to that server, creates a fresh database (fundapp_bench_<random>),
works in it and drops it at the end; with a SQLite URL it needs a file that does not exist yet, and removes
it at the end; without a URL it uses a temporary SQLite file. It bulk-inserts one call with N proposals in
review, each with 3 submitted reviews from a pool of reviewers (some harsh, some generous), runs ANALYZE,
then times ``ranking()`` (a few warm-up runs, then ``--runs`` timed ones) and prints the median, the 95th
percentile and the number of queries one ranking sends. The figures also go, as one JSON line, to
bench/results/ranking-<sqlite|postgresql>.json. Target: under 200 ms for 2,000 proposals on PostgreSQL.
Not part of the test suite.
"""

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from _common import (
    DATABASE_URL_HELP,
    machine,
    organisation_bin,
    server_version,
    summary,
    throwaway_app,
    write_result,
)
from sqlalchemy import event, insert, text

TARGET_MS = 200
WARM_UP_RUNS = 3
REVIEWS_PER_PROPOSAL = 3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help=DATABASE_URL_HELP)
    parser.add_argument("--proposals", type=int, default=2000, help="proposals in the call (default 2000)")
    parser.add_argument("--reviewers", type=int, default=40, help="reviewers in the pool (default 40)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs after the warm-up (default 20)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated scores")
    args = parser.parse_args(argv)
    if args.reviewers < REVIEWS_PER_PROPOSAL:
        parser.error(f"--reviewers must be at least {REVIEWS_PER_PROPOSAL}")
    if args.proposals < 1 or args.runs < 1:
        parser.error("--proposals and --runs must be positive")
    return args


# -- the data -----------------------------------------------------------------------------------------------


def _quantized(value):
    return Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def load_call(session, proposals, reviewers, seed):
    """One published call with ``proposals`` proposals in review, each reviewed by 3 of ``reviewers``
    reviewers; every table written with one executemany. Returns the call."""
    from sqlalchemy import select

    from fundapp.accounts.models import Organisation, OrganisationType, User, UserRole
    from fundapp.applications.models import Call, CallState, Proposal, ProposalState
    from fundapp.core.permissions import Role
    from fundapp.reference.data import load_reference_data
    from fundapp.reference.models import ReferenceItem, Vocabulary
    from fundapp.reviews.models import Assignment, AssignmentState, Recommendation, Review, Rubric

    rng = random.Random(seed)
    now = datetime.now(UTC)
    load_reference_data(session)
    region_ids = session.scalars(
        select(ReferenceItem.id).where(ReferenceItem.vocabulary == Vocabulary.REGION)
    ).all()

    officer_id = 1
    reviewer_ids = list(range(2, 2 + reviewers))
    session.execute(
        insert(User),
        [{"id": officer_id, "email": "officer@bench.example", "full_name": "Bench Officer"}]
        + [
            {"id": rid, "email": f"reviewer{rid}@bench.example", "full_name": f"Reviewer {rid}"}
            for rid in reviewer_ids
        ],
    )
    session.execute(
        insert(UserRole),
        [{"user_id": officer_id, "role": Role.PROGRAMME_OFFICER}]
        + [{"user_id": rid, "role": Role.REVIEWER} for rid in reviewer_ids],
    )
    session.execute(
        insert(Organisation),
        [
            {
                "id": n,
                "name_en": f"Steppe and Sea Society {n}",
                "name_ru": f"Общество степи и моря {n}",
                "name_kk": f"Дала мен теңіз қоғамы {n}",
                "bin": organisation_bin("1503", n),
                "org_type": OrganisationType.NGO,
                "region_id": region_ids[n % len(region_ids)],
            }
            for n in range(1, proposals + 1)
        ],
    )
    session.execute(
        insert(Call),
        [
            {
                "id": 1,
                "reference": "CALL-BENCH-01",
                "title": "Caspian seal, saiga and snow leopard (benchmark)",
                "state": CallState.CLOSED,
                "currency": "KZT",
                "grant_min_minor": 1_000_000_00,
                "grant_max_minor": 20_000_000_00,
                "envelope_minor": 10_000_000_000_00,
                "opens_at": now - timedelta(days=90),
                "closes_at": now - timedelta(days=30),
                "created_by_id": officer_id,
            }
        ],
    )
    session.execute(insert(Rubric), [{"id": 1, "call_id": 1}])
    session.execute(
        insert(Proposal),
        [
            {
                "id": n,
                "reference": f"PRP-BENCH-{n:05d}",
                "call_id": 1,
                "organisation_id": n,
                "state": ProposalState.IN_REVIEW,
                "title": f"Conservation project {n}",
                "currency": "KZT",
                "requested_minor": rng.randrange(1_000_000, 20_000_000) * 100,
                "created_by_id": officer_id,
                "submitted_at": now - timedelta(days=40),
            }
            for n in range(1, proposals + 1)
        ],
    )
    # Each reviewer has a habit (harsh or generous), each proposal a quality; a score is both plus noise.
    habit = {rid: rng.gauss(0, 12) for rid in reviewer_ids}
    assignments, reviews = [], []
    for n in range(1, proposals + 1):
        quality = rng.gauss(60, 15)
        for rid in rng.sample(reviewer_ids, REVIEWS_PER_PROPOSAL):
            score = min(100.0, max(0.0, quality + habit[rid] + rng.gauss(0, 8)))
            recommendation = (
                Recommendation.FUND
                if score >= 70
                else Recommendation.FUND_WITH_CHANGES
                if score >= 50
                else Recommendation.DO_NOT_FUND
            )
            assignment_id = len(assignments) + 1
            assignments.append(
                {
                    "id": assignment_id,
                    "proposal_id": n,
                    "reviewer_id": rid,
                    "state": AssignmentState.SUBMITTED,
                }
            )
            reviews.append(
                {
                    "id": assignment_id,
                    "assignment_id": assignment_id,
                    "recommendation": recommendation,
                    "weighted_score": _quantized(score),
                    "submitted_at": now - timedelta(days=5),
                    "version": 1,
                }
            )
    session.execute(insert(Assignment), assignments)
    session.execute(insert(Review), reviews)
    session.commit()
    return session.get(Call, 1)


# -- timing -------------------------------------------------------------------------------------------------


def time_ranking(session, engine, call, runs):
    from fundapp.reviews.ranking import ranking

    statements = []

    def count(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    for _ in range(WARM_UP_RUNS):
        ranked = ranking(session, call)
    event.listen(engine, "before_cursor_execute", count)
    try:
        ranking(session, call)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        ranked = ranking(session, call, order_by="normalised" if len(timings) % 2 else "mean")
        timings.append((time.perf_counter() - started) * 1000)
    return ranked, timings, len(statements)


def main(argv=None):
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    with throwaway_app(args.database_url):
        from fundapp.extensions import db

        dialect = db.engine.dialect.name
        started = time.perf_counter()
        call = load_call(db.session, args.proposals, args.reviewers, args.seed)
        load_seconds = time.perf_counter() - started
        # Planner statistics, as a database in use has them (autovacuum has not run on new tables yet).
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        ranked, timings, queries = time_ranking(db.session, db.engine, call, args.runs)
        version = server_version(db.engine)

    reviewed = sum(1 for item in ranked if item.is_reviewed)
    result = {
        "benchmark": "ranking",
        "database": dialect,
        "database_version": version,
        "proposals": args.proposals,
        "reviews": args.proposals * REVIEWS_PER_PROPOSAL,
        "reviewers": args.reviewers,
        "ranked": len(ranked),
        "reviewed": reviewed,
        "runs": args.runs,
        **summary(timings),
        "queries": queries,
        "target_ms": TARGET_MS,
        "load_seconds": round(load_seconds, 2),
        **machine(load_before),
    }
    print(
        f"ranking on {dialect} {version}: {args.proposals} proposals, {result['reviews']} reviews, "
        f"{args.reviewers} reviewers (loaded in {load_seconds:.1f} s; machine load {load_before:.2f} on "
        f"{os.cpu_count()} CPUs)"
    )
    print(
        f"  {args.runs} runs after {WARM_UP_RUNS} warm-up: median {result['median_ms']} ms, "
        f"p95 {result['p95_ms']} ms (min {result['min_ms']}, max {result['max_ms']}); "
        f"{queries} quer{'y' if queries == 1 else 'ies'} per ranking"
    )
    verdict = "within" if result["p95_ms"] < TARGET_MS else "OVER"
    print(
        f"  p95 {verdict} the {TARGET_MS} ms target"
        + ("" if dialect == "postgresql" else " (set for PostgreSQL)")
    )
    write_result(result)
    return result


if __name__ == "__main__":
    main()
