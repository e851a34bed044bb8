"""How the programme officer's proposal list and its exports hold up with 10,000 proposals.

    .venv/bin/python bench/officer_list.py                                  # a throwaway SQLite file
    .venv/bin/python bench/officer_list.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/officer_list.py --proposals 20000 --requests 50

With a PostgreSQL URL the script connects to that server, creates a fresh database (fundapp_bench_<random>),
works in it and drops it at the end (the role needs CREATEDB); with a sqlite:/// URL it needs a file that does
not exist yet and removes it at the end; without a URL it uses a temporary SQLite file. It then:

1. creates the tables from the models (``db.create_all()``) and loads the reference data;
2. bulk-inserts (SQLAlchemy Core, one executemany per table) 20 calls, 500 organisations and N proposals
   spread over the calls and the states after submission, each with its filter tags (regions, Red List
   categories, species, threats), and one programme officer;
3. logs the officer in through the login form of the Flask test client and, for each page -- the list
   (``GET /officer/proposals``), a filtered list (state, region and Red List category), and the last page --
   sends a few warm-up requests, then ``--requests`` timed ones: the time from request to the last byte of
   the response, in the process (no network), median and 95th percentile, and the SQL statements each
   request sends (a ``before_cursor_execute`` counter; BEGIN and other transaction control left out);
4. exports every proposal as CSV (streamed; time, and peak Python memory with tracemalloc in a second run)
   and as XLSX (time);
5. prints the figures and writes them as one JSON line to bench/results/officer_list-<sqlite|postgresql>.json.

What to look for: the query count is the same for every page and filter (it does not grow with the rows shown
or stored); the CSV's peak memory stays far below the size of the file. Not part of the test suite.
"""

import argparse
import contextvars
import os
import random
import re
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from _common import (
    DATABASE_URL_HELP,
    QueryCounter,
    isolated_client,
    log_in,
    machine,
    organisation_bin,
    server_version,
    summary,
    throwaway_app,
    write_result,
)
from flask.testing import FlaskClient
from sqlalchemy import insert, select, text

CALLS = 20
ORGANISATIONS = 500
WARM_UP_REQUESTS = 3
OFFICER_EMAIL = "officer@bench.example"
OFFICER_PASSWORD = "bench-officer-password"  # noqa: S105 - a throwaway database
#: States a proposal can be in once submitted, with how common each is in the generated data.
STATE_WEIGHTS = {
    "submitted": 20,
    "more_info_requested": 5,
    "eligible": 20,
    "ineligible": 10,
    "in_review": 15,
    "reviewed": 10,
    "on_agenda": 5,
    "approved": 5,
    "rejected": 5,
    "withdrawn": 5,
}
THEMES = ["marine_mammals", "steppe_ungulates", "large_carnivores", "wetlands", "forests", "protected_areas"]
SPECIES = [
    ("Pusa caspica", "EN"),
    ("Saiga tatarica", "NT"),
    ("Panthera uncia", "VU"),
    ("Ovis ammon", "NT"),
    ("Gazella subgutturosa", "VU"),
    ("Otis tarda", "VU"),
    ("Oxyura leucocephala", "EN"),
    ("Huso huso", "CR"),
]
THREATS = ["2.3", "4.1", "5.1", "5.4", "7.2", "9.2", "11.2"]
FILTERED = "state=eligible&region=KZ-47&red_list=EN"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help=DATABASE_URL_HELP)
    parser.add_argument("--proposals", type=int, default=10_000, help="proposals stored (default 10000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated data")
    parser.add_argument(
        "--show-queries", action="store_true", help="print the statements of one list request"
    )
    args = parser.parse_args(argv)
    if args.proposals < 1 or args.requests < 1:
        parser.error("--proposals and --requests must be positive")
    if args.proposals > CALLS * ORGANISATIONS * 10:
        parser.error(f"at most {CALLS * ORGANISATIONS * 10} proposals")
    return args


# -- the data -----------------------------------------------------------------------------------------------


def load_data(session, proposals, seed):
    """20 calls, 500 organisations, ``proposals`` proposals with their tags and one programme officer, every
    table written with one executemany. Returns the number of tags."""
    from fundapp.accounts.models import Organisation, OrganisationType, User, UserRole
    from fundapp.accounts.passwords import hash_password
    from fundapp.applications.models import Call, CallState, Proposal, ProposalStage, ProposalTag
    from fundapp.core.permissions import Role
    from fundapp.reference.data import load_reference_data
    from fundapp.reference.models import ReferenceItem, Vocabulary

    rng = random.Random(seed)
    now = datetime.now(UTC)
    load_reference_data(session)
    regions = session.execute(
        select(ReferenceItem.id, ReferenceItem.code).where(ReferenceItem.vocabulary == Vocabulary.REGION)
    ).all()

    session.execute(
        insert(User),
        [
            {
                "id": 1,
                "email": OFFICER_EMAIL,
                "full_name": "Bench Officer",
                "password_hash": hash_password(OFFICER_PASSWORD),
                "is_active": True,
                "locale": "en",
                "created_at": now,
            },
            {
                "id": 2,
                "email": "applicant@bench.example",
                "full_name": "Bench Applicant",
                "password_hash": None,
                "is_active": True,
                "locale": "en",
                "created_at": now,
            },
        ],
    )
    session.execute(
        insert(UserRole),
        [{"user_id": 1, "role": Role.PROGRAMME_OFFICER}, {"user_id": 2, "role": Role.APPLICANT}],
    )

    calls = []
    for number in range(1, CALLS + 1):
        closes = now - timedelta(days=20 * (CALLS - number)) + timedelta(days=30)
        themes = rng.sample(THEMES, 2)
        calls.append(
            {
                "id": number,
                "reference": f"CALL-BENCH-{number:02d}",
                "title": f"Benchmark call {number}: {' and '.join(themes)}",
                "description_html": "<p>A call of the benchmark.</p>",
                "state": CallState.PUBLISHED if closes > now else CallState.CLOSED,
                "themes": themes,
                "eligible_org_types": [t.value for t in OrganisationType],
                "currency": "KZT",
                "grant_min_minor": 1_000_000_00,
                "grant_max_minor": 50_000_000_00,
                "envelope_minor": 500_000_000_00,
                "opens_at": closes - timedelta(days=90),
                "closes_at": closes,
                "stages": 1,
                "cofinancing_min_percent": 10,
                "required_attachments": ["registration_certificate"],
                "created_at": now,
                "created_by_id": 1,
                "published_at": closes - timedelta(days=90),
            }
        )
    session.execute(insert(Call), calls)

    organisations = []
    for number in range(1, ORGANISATIONS + 1):
        region_id, _code = rng.choice(regions)
        organisations.append(
            {
                "id": number,
                "name_en": f"Steppe and Sea Society {number}",
                "name_ru": f"Общество степи и моря {number}",
                "name_kk": f"Дала мен теңіз қоғамы {number}",
                "bin": organisation_bin("1604", number),
                "org_type": rng.choice(list(OrganisationType)),
                "region_id": region_id,
                "legal_address": f"Aktau, microdistrict {number % 30 + 1}",
                "created_at": now,
            }
        )
    session.execute(insert(Organisation), organisations)

    states, weights = zip(*STATE_WEIGHTS.items(), strict=True)
    rows, tags = [], []
    for number in range(1, proposals + 1):
        call = calls[(number - 1) % CALLS]
        organisation_id = (number - 1) // CALLS % ORGANISATIONS + 1
        # Beyond 10,000 an organisation applies to a call again at the other stage (the unique key allows it).
        stage = (
            ProposalStage.FULL if (number - 1) // (CALLS * ORGANISATIONS) % 2 == 0 else ProposalStage.CONCEPT
        )
        requested = rng.randrange(2_000_000, 45_000_000) * 100
        submitted = min(call["closes_at"], now) - timedelta(minutes=rng.randrange(1, 60 * 24 * 80))
        rows.append(
            {
                "id": number,
                "reference": f"PRP-BENCH-{number:06d}",
                "call_id": call["id"],
                "organisation_id": organisation_id,
                "stage": stage,
                "state": rng.choices(states, weights)[0],
                "title": f"Conservation project {number} of organisation {organisation_id}",
                "theme": rng.choice(call["themes"]),
                "eligibility_answers": {},
                "currency": "KZT",
                "requested_minor": requested,
                "cofinancing_minor": requested // 8,
                "created_at": submitted - timedelta(days=20),
                "created_by_id": 2,
                "updated_at": submitted,
                "submitted_at": submitted,
            }
        )
        seen = set()
        for _code_id, code in rng.sample(regions, rng.randint(1, 2)):
            seen.add(("region", code))
        for species, red_list in rng.sample(SPECIES, rng.randint(1, 2)):
            seen.update({("species", species), ("red_list", red_list)})
        for threat in rng.sample(THREATS, rng.randint(1, 2)):
            seen.add(("threat", threat))
        tags.extend({"proposal_id": number, "kind": kind, "code": code} for kind, code in sorted(seen))
    session.execute(insert(Proposal), rows)
    session.execute(insert(ProposalTag), tags)
    return len(tags)


# -- measuring ----------------------------------------------------------------------------------------------


def time_page(client, counter, url, requests):
    """Warm-up, then ``requests`` timed GETs of ``url``: (timings in ms, queries per request, rows shown)."""
    for _ in range(WARM_UP_REQUESTS):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    timings, queries = [], set()
    body = ""
    for _ in range(requests):
        counter.reset()
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data(as_text=True)
        timings.append((time.perf_counter() - started) * 1000)
        queries.add(counter.count)
    rows = len(re.findall(r'href="/officer/proposals/\d+"', body))
    matching = re.search(r"(\d[\d,]*) proposals?\b", body)
    return timings, sorted(queries), rows, int(matching.group(1).replace(",", "")) if matching else None


def _in_own_context(function):
    """Run ``function`` in a fresh context: a streamed response is read in the context it was made in."""
    return contextvars.Context().run(function)


def _stream(client, url):
    """GET ``url`` and read the streamed body chunk by chunk without keeping it: (bytes, lines)."""
    response = FlaskClient.open(client, url)  # not the isolating open: this context reads the stream
    size = lines = 0
    for chunk in response.response:
        data = chunk if isinstance(chunk, bytes) else chunk.encode()
        size += len(data)
        lines += data.count(b"\n")
    response.close()
    return size, lines


def export_csv(client, counter, url):
    """Stream the CSV export without keeping it: (seconds, bytes, lines, queries)."""
    counter.reset()
    started = time.perf_counter()
    size, lines = _in_own_context(lambda: _stream(client, url))
    return time.perf_counter() - started, size, lines, counter.count


def csv_peak_memory(client, url):
    """Peak Python memory (tracemalloc) while the CSV export streams through, in bytes."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        _in_own_context(lambda: _stream(client, url))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv=None):
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    statements = []
    with throwaway_app(args.database_url) as app:
        from fundapp.extensions import db

        dialect = db.engine.dialect.name
        version = server_version(db.engine)
        started = time.perf_counter()
        tag_count = load_data(db.session, args.proposals, args.seed)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        load_seconds = time.perf_counter() - started
        db.session.remove()

        counter = QueryCounter(db.engine)
        client = isolated_client(app)
        log_in(client, OFFICER_EMAIL, OFFICER_PASSWORD)
        last_page = (args.proposals + 49) // 50
        pages = {}
        for name, url in (
            ("list", "/officer/proposals"),
            ("filtered", f"/officer/proposals?{FILTERED}"),
            ("last_page", f"/officer/proposals?page={last_page}"),
        ):
            timings, queries, rows, matching = time_page(client, counter, url, args.requests)
            pages[name] = {
                "url": url,
                "rows_shown": rows,
                "rows_matching": matching,
                "queries": queries,
                **summary(timings),
            }
            if args.show_queries and name == "list":
                statements = [" ".join(sql.split()) for sql in counter.statements]

        export_csv(client, counter, "/officer/proposals.csv")  # warm-up
        csv_seconds, csv_bytes, csv_lines, csv_queries = export_csv(client, counter, "/officer/proposals.csv")
        csv_peak = csv_peak_memory(client, "/officer/proposals.csv")
        started = time.perf_counter()
        xlsx = client.get("/officer/proposals.xlsx")
        xlsx_bytes = len(xlsx.get_data())
        xlsx_seconds = time.perf_counter() - started

    result = {
        "benchmark": "officer_list",
        "database": dialect,
        "database_version": version,
        "proposals": args.proposals,
        "calls": CALLS,
        "organisations": ORGANISATIONS,
        "tags": tag_count,
        "requests": args.requests,
        "pages": pages,
        "csv": {
            "seconds": round(csv_seconds, 3),
            "bytes": csv_bytes,
            "rows": csv_lines - 1,
            "queries": csv_queries,
            "peak_memory_bytes": csv_peak,
        },
        "xlsx": {"seconds": round(xlsx_seconds, 3), "bytes": xlsx_bytes},
        "load_seconds": round(load_seconds, 2),
        **machine(load_before),
    }
    print(
        f"officer list on {dialect} {version}: {args.proposals} proposals in {CALLS} calls, "
        f"{tag_count} tags (loaded in {load_seconds:.1f} s; machine load {load_before:.2f} on "
        f"{os.cpu_count()} CPUs)"
    )
    for name, page in pages.items():
        print(
            f"  {name:<10} {page['url']:<60} {page['rows_shown']:>3} of {page['rows_matching']} rows: "
            f"median {page['median_ms']} ms, "
            f"p95 {page['p95_ms']} ms; queries per request {', '.join(map(str, page['queries']))}"
        )
    if args.show_queries:
        print("  statements of one list request:")
        for statement in statements:
            print(f"    {statement[:200]}")
    csv_result = result["csv"]
    print(
        f"  CSV of {csv_result['rows']} proposals: {csv_result['seconds']} s, {csv_bytes / 1e6:.1f} MB, "
        f"{csv_queries} queries, peak Python memory {csv_peak / 1e6:.1f} MB"
    )
    print(f"  XLSX: {result['xlsx']['seconds']} s, {xlsx_bytes / 1e6:.1f} MB")
    write_result(result)
    return result


if __name__ == "__main__":
    main()
