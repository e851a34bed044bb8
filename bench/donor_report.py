"""How much a donor report covering 100 projects costs beyond WeasyPrint's own work.

    .venv/bin/python bench/donor_report.py                                  # a throwaway SQLite file
    .venv/bin/python bench/donor_report.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/donor_report.py --projects 100 --runs 5

Target (issue 7): the whole donor report spends at most 25% more time than WeasyPrint alone takes to render
the same final HTML, measured side by side in one run. The script:

1. creates the tables from the models and loads the reference data, in a throwaway database;
2. builds, through the real operations (the test factories: board approval, signature and commitment,
   tranche approval and release by two finance officers, a progress report accepted with indicator values,
   a photo and a narrative), one donor whose contribution (EUR, converted to KZT) funds N projects;
3. renders the report once to warm up and to capture the final HTML the PDF helper hands to WeasyPrint;
4. times, alternating, ``--runs`` times each: (a) the whole report, ``render_donor_report`` (figures from
   the ledger, charts, per-project pages with photos, template, PDF) and (b) WeasyPrint alone on the
   captured HTML (``HTML(...).render()`` and ``write_pdf()``, with the same URL fetcher);
5. prints the medians and the overhead ((a - b) / b) and writes them as one JSON line to
   bench/results/donor_report-<sqlite|postgresql>.json.
"""

import argparse
import os
import statistics
import time
from decimal import Decimal

from _common import DATABASE_URL_HELP, machine, server_version, summary, throwaway_app, write_result

TARGET_OVERHEAD_PERCENT = 25


def build(projects):
    """One donor and ``projects`` grants funded by its contribution, each with an accepted report."""
    from fundapp.disbursements.models import GrantState
    from fundapp.extensions import db
    from fundapp.reference.data import load_reference_data
    from tests.applications.factories import fund_call, make_call, make_officer
    from tests.disbursements.factories import days_ago, make_finance_officer, make_grant
    from tests.donors.factories import make_contribution, make_donor
    from tests.reports.test_report_data import END, START, accept_progress_report, release_first_tranche

    load_reference_data(db.session)
    donor = make_donor(name="Caspian Conservation Foundation", preferred_currency="EUR")
    call = make_call(funded=False, envelope_minor=10**15, grant_max_minor=10**13)
    pool = fund_call(call, 0)
    make_contribution(
        donor,
        pool,
        str(9 * 1000 * projects + 1000),
        currency="EUR",
        rate=Decimal("1000"),
        value_date=days_ago(90),
    )
    officer = make_officer()
    finance_a, finance_b = make_finance_officer(), make_finance_officer()
    for number in range(projects):
        grant = make_grant(active=True, call=call, officer=officer, start=START, end=END)
        release_first_tranche(grant, finance_a, finance_b, f"PAY-{number:04d}")
        accept_progress_report(
            grant, f"Project {number + 1}: patrols ran weekly; seals were counted in May. " * 6
        )
        assert grant.state == GrantState.ACTIVE
        if number % 10 == 9:
            db.session.commit()
            print(f"  {number + 1} projects", flush=True)
    db.session.commit()
    return donor.id


def measure_report(app, donor_id, runs):
    """Render donor ``donor_id``'s report once to capture the final HTML, then time, alternating, the whole
    report and WeasyPrint alone on that HTML, ``runs`` times each. Call inside an app context of ``app``.
    Returns the figures (without the machine)."""
    import matplotlib
    import weasyprint

    from fundapp.core import pdf
    from fundapp.donors.models import Donor
    from fundapp.extensions import db
    from fundapp.reports.documents import render_donor_report

    captured = {}
    original_html = pdf.HTML

    class CapturingHTML(original_html):
        def __init__(self, *args, string=None, **kwargs):
            captured["html"] = string
            super().__init__(*args, string=string, **kwargs)

    pdf.HTML = CapturingHTML
    try:
        warm = render_donor_report(db.session, db.session.get(Donor, donor_id))
    finally:
        pdf.HTML = original_html
    html = captured["html"]
    fetcher = pdf.StaticOnlyURLFetcher(app.static_folder)
    print(f"report: {warm.page_count} pages, {warm.size_bytes} bytes, HTML {len(html)} characters")

    def whole():
        db.session.expire_all()
        return render_donor_report(db.session, db.session.get(Donor, donor_id))

    def weasyprint_alone():
        document = weasyprint.HTML(string=html, base_url=fetcher.base_url, url_fetcher=fetcher).render()
        return document.write_pdf()

    timings = {"whole": [], "weasyprint": []}
    for run in range(runs):
        order = [("whole", whole), ("weasyprint", weasyprint_alone)]
        for name, function in order if run % 2 == 0 else reversed(order):
            started = time.perf_counter()
            function()
            timings[name].append((time.perf_counter() - started) * 1000)
        whole_ms, alone_ms = timings["whole"][-1], timings["weasyprint"][-1]
        print(f"  run {run + 1}: whole {whole_ms:.0f} ms, WeasyPrint {alone_ms:.0f} ms")
    whole_median = statistics.median(timings["whole"])
    alone_median = statistics.median(timings["weasyprint"])
    overhead = round((whole_median - alone_median) / alone_median * 100, 1)
    print(
        f"whole report median {whole_median:.0f} ms, WeasyPrint alone {alone_median:.0f} ms: "
        f"overhead {overhead}% (target <= {TARGET_OVERHEAD_PERCENT}%)"
    )
    return {
        "pages": warm.page_count,
        "pdf_bytes": warm.size_bytes,
        "runs": runs,
        "whole_report": summary(timings["whole"]),
        "weasyprint_alone": summary(timings["weasyprint"]),
        "overhead_percent": overhead,
        "target_overhead_percent": TARGET_OVERHEAD_PERCENT,
        "meets_target": overhead <= TARGET_OVERHEAD_PERCENT,
        "versions": {"weasyprint": weasyprint.__version__, "matplotlib": matplotlib.__version__},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=DATABASE_URL_HELP)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    load_before = os.getloadavg()[0]

    with throwaway_app(arguments.database_url) as app:
        from fundapp.extensions import db

        started = time.perf_counter()
        donor_id = build(arguments.projects)
        print(f"built {arguments.projects} projects in {time.perf_counter() - started:.1f} s")
        figures = measure_report(app, donor_id, arguments.runs)
        result = {
            "benchmark": "donor_report",
            "database": db.engine.dialect.name,
            "database_version": server_version(db.engine),
            "projects": arguments.projects,
            **figures,
            **machine(load_before),
        }
        write_result(result)


if __name__ == "__main__":
    main()
