"""The donor report and the portfolio report as PDF documents.

Built from the plain values of ``fundapp.reports.data`` and the SVG charts of ``fundapp.reports.charts``,
rendered by the core PDF helper (``fundapp.core.pdf``) from ``templates/pdf/donor_report.html`` and
``templates/pdf/portfolio_report.html``, in the donor's language (the portfolio report: the language asked
for, by default the fund's). Everything written by applicants or donors (titles, summaries, narratives,
captions, salutations) is autoescaped text; nothing in it can make the renderer fetch a file or a URL, since
the helper's URL fetcher refuses all but the static folder and ``data:`` URLs (photos and charts are
``data:`` URIs built here).

``progress(message, percent)``, when given, is told what is being done: gathering data (10), charts (30),
project pages (on the way), rendering (80).
"""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from fundapp.core.pdf import render_pdf_document
from fundapp.reports import charts
from fundapp.reports.data import donor_report_data, portfolio_report_data

DONOR_TEMPLATE = "pdf/donor_report.html"
PORTFOLIO_TEMPLATE = "pdf/portfolio_report.html"


def _no_progress(message, percent):
    return None


def report_charts(data):
    """The three charts as ``data:`` URIs (None where there is nothing to draw)."""
    unit = data["base_currency"]
    return {
        "themes": charts.horizontal_bars(
            [row["name"] for row in data["themes"]],
            [row["amount"].amount for row in data["themes"]],
            unit=unit,
        ),
        "releases": charts.cumulative_line(
            [(label, amount.amount) for label, amount in data["releases_by_quarter"]], unit=unit
        ),
        "gbf": charts.horizontal_bars(
            [
                _("Target %(code)s", code=row["code"]) + (f": {row['label']}" if row["label"] else "")
                for row in data["gbf_targets"]
            ],
            [row["projects"] for row in data["gbf_targets"]],
            unit=_("Projects"),
            wrap=60,
            whole_numbers=True,
        ),
    }


def donor_report_context(session, donor, date_from=None, date_to=None, *, language=None, progress=None):
    """The template's values for the donor report (data and charts), in the report's language."""
    progress = progress or _no_progress
    language = language or donor.preferred_language
    with force_locale(language):
        progress(_("Gathering the figures"), 10)
        data = donor_report_data(session, donor, date_from, date_to, language=language, progress=progress)
        progress(_("Drawing the charts"), 30)
        data["charts"] = report_charts(data)
        data["metadata"] = {
            "title": _(
                "Report to %(donor)s, %(start)s – %(end)s",
                donor=donor.name,
                start=data["period"]["start"].isoformat(),
                end=data["period"]["end"].isoformat(),
            ),
            "subject": _("What the contributions of %(donor)s funded", donor=donor.name),
            "keywords": ", ".join(
                [current_app.config["FUND_SHORT_NAME"], donor.reference, _("donor report"), _("biodiversity")]
            ),
        }
    return data


def render_donor_report(session, donor, date_from=None, date_to=None, *, language=None, progress=None):
    """The donor report of ``donor`` for the period, as a :class:`~fundapp.core.pdf.RenderedPdf`."""
    progress = progress or _no_progress
    language = language or donor.preferred_language
    context = donor_report_context(session, donor, date_from, date_to, language=language, progress=progress)
    with force_locale(language):
        progress(_("Rendering the document"), 80)
    return render_pdf_document(DONOR_TEMPLATE, locale=language, report=context)


def portfolio_report_context(session, year, *, language=None, progress=None):
    progress = progress or _no_progress
    language = language or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    with force_locale(language):
        progress(_("Gathering the figures"), 10)
        data = portfolio_report_data(session, year, language=language, progress=progress)
        progress(_("Drawing the charts"), 30)
        data["charts"] = report_charts(data)
        data["metadata"] = {
            "title": _("%(fund)s: annual report %(year)s", fund=current_app.config["FUND_NAME"], year=year),
            "subject": _("The fund's grants, donors and results in %(year)s", year=year),
            "keywords": ", ".join([current_app.config["FUND_SHORT_NAME"], _("annual report"), str(year)]),
        }
    return data


def render_portfolio_report(session, year, *, language=None, progress=None):
    """The fund's portfolio (annual) report for ``year``, as a RenderedPdf."""
    progress = progress or _no_progress
    language = language or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    context = portfolio_report_context(session, year, language=language, progress=progress)
    with force_locale(language):
        progress(_("Rendering the document"), 80)
    return render_pdf_document(PORTFOLIO_TEMPLATE, locale=language, report=context)
