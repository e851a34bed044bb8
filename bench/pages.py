"""Server time and SQL queries of the pages people open most, on an existing, populated database (issue 8).

    .venv/bin/python bench/pages.py --database-url postgresql://postgres@127.0.0.1:5432/fundapp_bench
    .venv/bin/python bench/pages.py --database-url sqlite:////tmp/demo.sqlite3 --demo-logins --requests 10

Unlike the other scripts this one creates no data: it measures the database the URL names, as it is, which
``fundapp bench seed`` (the default logins, password ``bench-password-2026``) or ``fundapp seed-demo``
(``--demo-logins``) has filled. It does write what any visit writes: each login records the login (last login
time and an audit event), and a grant page moves the grant's tranches whose day has come to "due".

For each page it picks one representative object by querying the database -- the call with the most proposals
for the ranking, the proposal with the most reviews, the meeting with the most agenda items, the grant (active
if any) with the most tranches and reports, the donor contact whose donor funds the most projects -- logs in
through the login form (Flask test client, every request in its own app context as on a server) as the role
that uses the page, sends a few warm-up requests, then ``--requests`` timed ones: the time from the request to
the last byte of the body, in the process (no network), median and 95th percentile, and the SQL statements of
each request (BEGIN and other transaction control left out). Pages:

    officer_list    /officer/proposals                   programme officer
    proposal        /officer/proposals/<id>              programme officer
    ranking         /officer/calls/<reference>/ranking   programme officer
    agenda          /board/meetings/<reference>          programme officer (the secretary's view)
    agenda_board    /board/meetings/<reference>          board chair (a member's view, with their votes)
    grant           /grants/<reference>                  finance officer
    pools           /finance/pools                       finance officer
    portal          /portal/                             the donor's contact

Target (issue 8, 10,000 proposals on PostgreSQL): a median under 50 ms and at most 15 queries, the same number
on every request. It prints a table and writes bench/results/pages-<sqlite|postgresql>.json.

``measure_pages(app)`` does the measuring for another script (``from pages import measure_pages``, next to
``_common``).
"""

import argparse
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field

from _common import (
    LoginFailed,
    QueryCounter,
    isolated_client,
    log_in,
    machine,
    make_app,
    server_version,
    summary,
    write_result,
)
from flask import current_app, has_app_context
from sqlalchemy import case, func, select

import config

#: Issue 8: the median server time under this, at most this many queries, the same count every request.
TARGET_MEDIAN_MS = 50
TARGET_QUERIES = 15

BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 - the throwaway accounts of `fundapp bench seed`
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the demo accounts of `fundapp seed-demo`
#: role -> (email, password): the accounts `fundapp bench seed` creates.
BENCH_LOGINS = {
    "officer": ("officer@bench.example", BENCH_PASSWORD),
    "finance": ("finance@bench.example", BENCH_PASSWORD),
    "chair": ("chair@bench.example", BENCH_PASSWORD),
    "donor": ("donor@bench.example", BENCH_PASSWORD),
}
#: The same roles in the demo data of `fundapp seed-demo`.
DEMO_LOGINS = {
    "officer": ("officer@ibf.example", DEMO_PASSWORD),
    "finance": ("finance@ibf.example", DEMO_PASSWORD),
    "chair": ("chair@ibf.example", DEMO_PASSWORD),
    "donor": ("donor@bmz.example", DEMO_PASSWORD),
}

_PROPOSAL_LINK = re.compile(r'href="/officer/proposals/\d+"')
_PROPOSALS_MATCHING = re.compile(r"(\d[\d,]*) proposals?\b")


class PageFailed(Exception):
    """A page could not be measured: nothing to show it with, a login refused, or an answer other than 200."""


class PageLoginRefused(PageFailed):
    """The login form refused the account a page is measured as."""


@dataclass
class Page:
    name: str
    url: str
    role: str
    #: What the page was picked for and shows: counted in the database.
    found: dict = field(default_factory=dict)


# -- picking what each page shows ---------------------------------------------------------------------------


def _first(session, query, page, missing):
    row = session.execute(query.limit(1)).first()
    if row is None:
        raise PageFailed(f"{page}: {missing}")
    return row


def _officer_list(session):
    from fundapp.applications.models import Proposal

    return Page(
        "officer_list",
        "/officer/proposals",
        "officer",
        {"proposals_stored": session.scalar(select(func.count(Proposal.id)))},
    )


def _proposal(session):
    from fundapp.applications.models import Proposal
    from fundapp.reviews.models import Assignment, Review

    reviews = (
        select(func.count(Review.id))
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(Assignment.proposal_id == Proposal.id)
        .scalar_subquery()
    )
    assignments = (
        select(func.count(Assignment.id)).where(Assignment.proposal_id == Proposal.id).scalar_subquery()
    )
    row = _first(
        session,
        select(Proposal.id, Proposal.reference, Proposal.state, reviews, assignments).order_by(
            reviews.desc(), assignments.desc(), Proposal.id
        ),
        "proposal",
        "no proposal in the database",
    )
    return Page(
        "proposal",
        f"/officer/proposals/{row[0]}",
        "officer",
        {"proposal": row[1], "state": str(row[2]), "reviews": row[3], "assignments": row[4]},
    )


def _ranking(session):
    from fundapp.applications.models import Call, Proposal
    from fundapp.reviews.models import Assignment, Review

    proposals = select(func.count(Proposal.id)).where(Proposal.call_id == Call.id).scalar_subquery()
    row = _first(
        session,
        select(Call.id, Call.reference, proposals).order_by(proposals.desc(), Call.id),
        "ranking",
        "no call in the database",
    )
    reviews = session.scalar(
        select(func.count(Review.id))
        .join(Assignment, Assignment.id == Review.assignment_id)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .where(Proposal.call_id == row[0])
    )
    return Page(
        "ranking",
        f"/officer/calls/{row[1]}/ranking",
        "officer",
        {"call": row[1], "proposals": row[2], "reviews": reviews},
    )


def _agenda(session, name, role):
    from fundapp.board.models import AgendaItem, Meeting, Vote

    items = select(func.count(AgendaItem.id)).where(AgendaItem.meeting_id == Meeting.id).scalar_subquery()
    votes = (
        select(func.count(Vote.id))
        .join(AgendaItem, AgendaItem.id == Vote.item_id)
        .where(AgendaItem.meeting_id == Meeting.id)
        .scalar_subquery()
    )
    row = _first(
        session,
        select(Meeting.reference, Meeting.state, items, votes).order_by(items.desc(), Meeting.id),
        name,
        "no board meeting in the database",
    )
    return Page(
        name,
        f"/board/meetings/{row[0]}",
        role,
        {"meeting": row[0], "state": str(row[1]), "agenda_items": row[2], "votes": row[3]},
    )


def _grant(session):
    from fundapp.disbursements.models import Grant, GrantReport, GrantState, Tranche

    tranches = select(func.count(Tranche.id)).where(Tranche.grant_id == Grant.id).scalar_subquery()
    reports = select(func.count(GrantReport.id)).where(GrantReport.grant_id == Grant.id).scalar_subquery()
    active = case((Grant.state == GrantState.ACTIVE, 1), else_=0)
    row = _first(
        session,
        select(Grant.reference, Grant.state, tranches, reports).order_by(
            active.desc(), (tranches + reports).desc(), Grant.id
        ),
        "grant",
        "no grant in the database",
    )
    return Page(
        "grant",
        f"/grants/{row[0]}",
        "finance",
        {"grant": row[0], "state": str(row[1]), "tranches": row[2], "reports": row[3]},
    )


def _pools(session):
    from fundapp.disbursements.models import FundingPool, JournalEntry, Posting

    return Page(
        "pools",
        "/finance/pools",
        "finance",
        {
            "pools": session.scalar(select(func.count(FundingPool.id))),
            "journal_entries": session.scalar(select(func.count(JournalEntry.id))),
            "postings": session.scalar(select(func.count(Posting.id))),
        },
    )


def _portal_contacts(session):
    """(user id, email, donor id, donor reference, projects funded) of every donor contact who can log in to
    the portal, the donor funding the most projects first. A contact sees the first donor (by id) they are a
    contact of, as the portal does."""
    from fundapp.accounts.models import User, UserRole
    from fundapp.core.permissions import Role
    from fundapp.donors.models import Allocation, Contribution, Donor, DonorContact

    projects = (
        select(func.count(func.distinct(Allocation.grant_id)))
        .join(Contribution, Contribution.id == Allocation.contribution_id)
        .where(Contribution.donor_id == Donor.id)
        .scalar_subquery()
    )
    first_donor = (
        select(func.min(DonorContact.donor_id)).where(DonorContact.user_id == User.id).scalar_subquery()
    )
    return session.execute(
        select(User.id, User.email, Donor.id, Donor.reference, projects)
        .join(UserRole, UserRole.user_id == User.id)
        .join(Donor, Donor.id == first_donor)
        .where(UserRole.role == Role.DONOR, User.is_active.is_(True))
        .order_by(projects.desc(), Donor.id, User.id)
    ).all()


def _portal(session, logins):
    """The portal home as the donor contact given in ``logins``; when that account is not a donor contact
    with portal access, as the contact whose donor funds the most projects (same password)."""
    from fundapp.donors.models import Contribution

    email, password = logins["donor"]
    contacts = _portal_contacts(session)
    if not contacts:
        raise PageFailed("portal: no donor contact with portal access in the database")
    chosen = next((c for c in contacts if c[1].lower() == email.lower()), None)
    found = {}
    if chosen is None:
        chosen = contacts[0]
        found["instead_of"] = email
    _user_id, contact, donor_id, donor, projects = chosen
    contributions = session.scalar(
        select(func.count(Contribution.id)).where(Contribution.donor_id == donor_id)
    )
    found = {
        "contact": contact,
        "donor": donor,
        "projects": projects,
        "contributions": contributions,
        **found,
    }
    logins = {**logins, "donor": (contact, password)}
    return Page("portal", "/portal/", "donor", found), logins


def find_pages(session, logins):
    """The pages to measure, in order, and ``logins`` with the donor's contact the portal is measured as."""
    pages = [
        _officer_list(session),
        _proposal(session),
        _ranking(session),
        _agenda(session, "agenda", "officer"),
    ]
    if "chair" in logins:
        pages.append(_agenda(session, "agenda_board", "chair"))
    pages += [_grant(session), _pools(session)]
    portal, logins = _portal(session, logins)
    pages.append(portal)
    return pages, logins


# -- measuring ----------------------------------------------------------------------------------------------


def _get(client, page):
    response = client.get(page.url)
    body = response.get_data()
    if response.status_code != 200:
        raise PageFailed(
            f"{page.name}: {page.url} answered {response.status_code} to {page.role} "
            f"({response.headers.get('Location', '')})".replace(" ()", "")
        )
    return body


def _time(client, counter, page, requests, warm_up):
    for _ in range(warm_up):
        _get(client, page)
    timings, counts = [], set()
    body = b""
    for _ in range(requests):
        counter.reset()
        started = time.perf_counter()
        body = _get(client, page)
        timings.append((time.perf_counter() - started) * 1000)
        counts.add(counter.count)
    return timings, sorted(counts), body, list(counter.statements)


def _shown(page, body):
    """What the answer shows, where it can be counted in the HTML."""
    if page.name != "officer_list":
        return {}
    text = body.decode("utf-8", "replace")
    matching = _PROPOSALS_MATCHING.search(text)
    return {
        "rows_shown": len(_PROPOSAL_LINK.findall(text)),
        "rows_matching": int(matching.group(1).replace(",", "")) if matching else None,
    }


def meets_target(result):
    return (
        result["median_ms"] < TARGET_MEDIAN_MS
        and max(result["queries"]) <= TARGET_QUERIES
        and len(result["queries"]) == 1
    )


def measure_pages(app, requests=30, warm_up=3, logins=None, keep_statements=False):
    """Time ``requests`` GETs of each page (after ``warm_up`` untimed ones) on ``app``'s database, which must
    be populated; inside or outside an app context.

    ``logins``: role ("officer", "finance", "donor", and "chair" for the agenda as a board member) -> (email,
    password); ``BENCH_LOGINS`` when None. Returns ``{page name: {url, role, login, median_ms, p95_ms,
    min_ms, max_ms, queries (the distinct counts seen, sorted), meets_target, bytes, found}}``; with
    ``keep_statements`` also the SQL of the last request. Raises ``PageFailed`` naming the page when there is
    nothing to show on it, a login is refused or a page answers other than 200.

    Called inside an app context of ``app``, that context's session must not be in a transaction: every
    request runs in its own context and session, as on a server."""
    from fundapp.extensions import db

    if has_app_context() and current_app._get_current_object() is app and db.session().in_transaction():
        # On SQLite that transaction holds the write lock (fundapp begins IMMEDIATE) every request waits for.
        raise RuntimeError("measure_pages: commit or close the session of the app context first")
    logins = dict(BENCH_LOGINS if logins is None else logins)
    with app.app_context():
        pages, logins = find_pages(db.session, logins)
        engine = db.engine
    clients = {}
    results = {}
    with QueryCounter(engine) as counter:
        for page in pages:
            if page.role not in clients:
                email, password = logins[page.role]
                client = isolated_client(app)
                try:
                    log_in(client, email, password)
                except LoginFailed as error:
                    raise PageLoginRefused(f"{page.name}: {error} (as {page.role})") from None
                clients[page.role] = client
            timings, counts, body, statements = _time(clients[page.role], counter, page, requests, warm_up)
            result = {
                "url": page.url,
                "role": page.role,
                "login": logins[page.role][0],
                **summary(timings),
                "queries": counts,
                "bytes": len(body),
                "found": {**page.found, **_shown(page, body)},
            }
            result["meets_target"] = meets_target(result)
            if keep_statements:
                result["statements"] = [" ".join(sql.split()) for sql in statements]
            results[page.name] = result
    return results


# -- the command --------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", required=True, help="the populated database to measure (PostgreSQL or sqlite:///)"
    )
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--warm-up", type=int, default=3, help="untimed requests before (default 3)")
    parser.add_argument(
        "--demo-logins",
        action="store_true",
        help="log in with the accounts of `fundapp seed-demo` instead of those of `fundapp bench seed`",
    )
    parser.add_argument(
        "--show-queries",
        action="store_true",
        help="print the statements of one request of every page over the query target",
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warm_up < 0:
        parser.error("--requests must be positive and --warm-up not negative")
    return args


def _print(dialect, version, load_before, requests, pages, show_queries):
    print(
        f"pages on {dialect} {version}: {requests} timed requests each (machine load {load_before:.2f} on "
        f"{os.cpu_count()} CPUs); target median < {TARGET_MEDIAN_MS} ms, at most {TARGET_QUERIES} queries, "
        "constant"
    )
    print(f"  {'page':<13} {'url':<42} {'median':>9} {'p95':>9} {'queries':>8}  target")
    for name, page in pages.items():
        queries = ",".join(map(str, page["queries"]))
        print(
            f"  {name:<13} {page['url']:<42} {page['median_ms']:>6.1f} ms {page['p95_ms']:>6.1f} ms "
            f"{queries:>8}  {'met' if page['meets_target'] else 'MISSED'}"
        )
    for name, page in pages.items():
        print(f"  {name}: {', '.join(f'{key} {value}' for key, value in page['found'].items())}")
    if show_queries:
        for name, page in pages.items():
            if max(page["queries"]) > TARGET_QUERIES:
                print(f"  statements of one {name} request:")
                for statement in page["statements"]:
                    print(f"    {statement[:160]}")


def main(argv=None):
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    instance = tempfile.mkdtemp(prefix="fundapp-bench-instance-")
    try:
        app = make_app(config.database_url(args.database_url), instance)
        with app.app_context():
            from fundapp.extensions import db

            with db.engine.connect():  # the server's version is known once connected
                dialect = db.engine.dialect.name
                version = server_version(db.engine)
        try:
            pages = measure_pages(
                app,
                requests=args.requests,
                warm_up=args.warm_up,
                logins=DEMO_LOGINS if args.demo_logins else BENCH_LOGINS,
                keep_statements=args.show_queries,
            )
        except PageLoginRefused as error:
            hint = "" if args.demo_logins else " (the demo data? add --demo-logins)"
            raise SystemExit(f"pages: {error}{hint}") from None
        except PageFailed as error:
            raise SystemExit(f"pages: {error}") from None
        finally:
            with app.app_context():
                db.engine.dispose()
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    _print(dialect, version, load_before, args.requests, pages, args.show_queries)
    for page in pages.values():
        page.pop("statements", None)
    result = {
        "benchmark": "pages",
        "database": dialect,
        "database_version": version,
        "requests": args.requests,
        "warm_up": args.warm_up,
        "logins": "demo" if args.demo_logins else "bench",
        "target": {"median_ms": TARGET_MEDIAN_MS, "queries": TARGET_QUERIES},
        "pages": pages,
        **machine(load_before),
    }
    write_result(result)
    return result


if __name__ == "__main__":
    main()
