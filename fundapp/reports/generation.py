"""Generating donor and portfolio reports in the background, and keeping every one that was generated.

A report is asked for with :func:`request_report` (a ``GeneratedReport`` row, QUEUED, with who asked, when
and the parameters; never commits), then started with :func:`start_report` once the request's transaction
is committed: :func:`fundapp.core.jobs.enqueue` hands :func:`generate_report` to an RQ worker when
``FUNDAPP_REDIS_URL`` is set, or runs it at once (inline) otherwise.

The job moves the row to RUNNING and reports how far it is (gathering data 10%, charts 30%, the project
pages on the way, rendering 80%, storing 100%). Each progress step is written and committed in a short
transaction of its own (a separate session), so the status page sees it while the job's own session is
still reading; that session is never committed half-way, so the ORM objects the builders hold are never
expired mid-report. The PDF is stored with ``save_upload`` (kind pdf) and its SHA-256 recorded; the row
ends DONE, or FAILED with a message saying why. Rows and files are never deleted: a report can be
downloaded again exactly as it was generated.
"""

import io
import logging
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.orm import Session

from fundapp.core.audit import record_event
from fundapp.core.db import utcnow
from fundapp.core.errors import DomainError
from fundapp.core.formatting import fund_today
from fundapp.core.jobs import enqueue
from fundapp.core.permissions import Role
from fundapp.core.storage import save_upload
from fundapp.donors.models import Donor, GeneratedReport, ReportJobState, ReportKind
from fundapp.extensions import db

log = logging.getLogger(__name__)

#: Reports with photos of a hundred projects are large; the upload limit for users does not apply.
REPORT_MAX_BYTES = 500 * 1024 * 1024
FIRST_YEAR = 2000
STAFF_ROLES = (Role.FINANCE_OFFICER, Role.PROGRAMME_OFFICER, Role.ADMIN)


# -- who may do what (used by the views and the templates) ---------------------------------------------


def can_request_reports(user):
    """Fund staff who deal with donors and grants: finance and programme officers, admins."""
    return user.is_authenticated and user.has_role(*STAFF_ROLES)


def can_view_report(report, user):
    """Staff see every report; a donor's contact sees the reports of that donor only."""
    if not user.is_authenticated:
        return False
    if user.has_role(*STAFF_ROLES):
        return True
    return (
        user.has_role(Role.DONOR)
        and report.kind == ReportKind.DONOR
        and report.donor is not None
        and report.donor.is_contact(user)
    )


def can_download_report(report, user):
    return (
        report.state == ReportJobState.DONE and report.file_id is not None and can_view_report(report, user)
    )


# -- asking for a report --------------------------------------------------------------------------------


def _day(value, field):
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError(_("%(value)s is not a date (YYYY-MM-DD).", value=value), field=field) from None


def check_period(date_from, date_to):
    """The period as dates; DomainError (naming the field) for a malformed, future or reversed period."""
    date_from, date_to = _day(date_from, "date_from"), _day(date_to, "date_to")
    today = fund_today()
    if date_to is not None and date_to > today:
        raise DomainError(_("A report cannot cover days that have not come yet."), field="date_to")
    if date_from is not None and date_from > (date_to or today):
        raise DomainError(_("The period must start before it ends."), field="date_from")
    return date_from, date_to


def check_year(year):
    try:
        year = int(str(year).strip())
    except (TypeError, ValueError):
        raise DomainError(_("Give the year as four digits, e.g. 2026."), field="year") from None
    if not FIRST_YEAR <= year <= fund_today().year:
        raise DomainError(
            _("Choose a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=fund_today().year),
            field="year",
        )
    return year


def request_report(session, actor, kind, donor=None, parameters=None):
    """A new QUEUED report of ``kind`` (``ReportKind`` or its value) for ``donor`` with ``parameters``
    (donor: ``from``, ``to``; portfolio: ``year``; both: ``language``). Checks them (DomainError naming the
    field), records who asked, writes an audit event. Never commits; call :func:`start_report` after."""
    try:
        kind = ReportKind(kind)
    except ValueError:
        raise DomainError(_("Choose a donor report or a portfolio report."), field="kind") from None
    parameters = dict(parameters or {})
    if kind == ReportKind.DONOR:
        if donor is None:
            raise DomainError(_("Choose the donor the report is for."), field="donor")
        date_from, date_to = check_period(parameters.get("from"), parameters.get("to"))
        stored = {
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
            "language": parameters.get("language") or donor.preferred_language,
        }
    else:
        donor = None
        stored = {
            "year": check_year(parameters.get("year")),
            "language": parameters.get("language") or current_app.config.get("BABEL_DEFAULT_LOCALE", "en"),
        }
    if stored["language"] not in current_app.config.get("LANGUAGES", ("en", "ru", "kk")):
        raise DomainError(_("Reports can be written in English, Russian or Kazakh."), field="language")
    report = GeneratedReport(
        kind=kind,
        donor_id=donor.id if donor is not None else None,
        parameters=stored,
        state=ReportJobState.QUEUED,
        progress=0,
        message=_("Waiting to start"),
        requested_by_id=getattr(actor, "id", None),
        requested_at=utcnow(),
    )
    session.add(report)
    session.flush()
    record_event(
        session,
        actor,
        report,
        "report.requested",
        after={"kind": kind.value, "donor": donor.reference if donor else None, **stored},
    )
    return report


def start_report(report_id):
    """Hand the committed report ``report_id`` to the job queue, or generate it now without Redis; returns
    the JobResult. Records the job's id (in its own small transaction).

    Takes the id, read before the commit: touching the caller's expired objects after the commit would
    open a new transaction in the caller's session around the inline job's own.
    """
    job = enqueue(generate_report, report_id)
    _write(report_id, job_id=job.id)
    return job


# -- the job --------------------------------------------------------------------------------------------


def _write(report_id, **values):
    """Write ``values`` on the report and commit at once, in a session of its own."""
    with Session(bind=db.engine, join_transaction_mode="create_savepoint") as session:
        session.execute(update(GeneratedReport).where(GeneratedReport.id == report_id).values(**values))
        session.commit()


def _claim(report_id):
    """Move the report from QUEUED to RUNNING, in a session of its own; False if it was not QUEUED (run
    already, or by another worker). Done while the job's own session holds no transaction: on SQLite a
    transaction holds the one write lock."""
    message = str(_("Started"))  # choosing the language may load the signed-in user ...
    db.session.rollback()  # ... in the job's session: end that read before writing elsewhere
    with Session(bind=db.engine, join_transaction_mode="create_savepoint") as session:
        result = session.execute(
            update(GeneratedReport)
            .where(GeneratedReport.id == report_id, GeneratedReport.state == ReportJobState.QUEUED)
            .values(state=ReportJobState.RUNNING, progress=5, message=message)
        )
        session.commit()
        return result.rowcount == 1


def _progress(report_id):
    def progress(message, percent):
        if db.engine.dialect.name == "sqlite":
            # SQLite has one writer at a time, and the job's own transaction holds it while it reads:
            # progress is shown step by step on PostgreSQL; on SQLite the page sees "Started", then the
            # result.
            return
        _write(report_id, progress=max(0, min(int(percent), 100)), message=str(message)[:500])

    return progress


def file_name(report):
    if report.kind == ReportKind.PORTFOLIO:
        return f"portfolio-report-{report.parameters.get('year')}.pdf"
    parts = [report.donor.reference if report.donor else "donor", "report"]
    parts += [value for value in (report.parameters.get("from"), report.parameters.get("to")) if value]
    return "-".join(parts) + ".pdf"


def render_requested(session, report, progress=None):
    """Render the document ``report`` asks for (a RenderedPdf)."""
    from fundapp.reports.documents import render_donor_report, render_portfolio_report

    parameters = report.parameters or {}
    language = parameters.get("language")
    if report.kind == ReportKind.PORTFOLIO:
        return render_portfolio_report(session, int(parameters["year"]), language=language, progress=progress)
    donor = session.get(Donor, report.donor_id)
    date_from, date_to = check_period(parameters.get("from"), parameters.get("to"))
    return render_donor_report(session, donor, date_from, date_to, language=language, progress=progress)


def generate_report(report_id):
    """The background job: render the report, store the PDF, record DONE (or FAILED with the reason).

    Runs in its own app context and session (``fundapp.core.jobs``). A report that is not QUEUED (already
    run, or run by another worker) is left alone. Returns the final state's value.
    """
    session = db.session
    if not _claim(report_id):
        report = session.get(GeneratedReport, report_id)
        state = report.state.value if report is not None else None
        session.rollback()
        return state
    report = session.get(GeneratedReport, report_id)
    progress = _progress(report_id)
    try:
        rendered = render_requested(session, report, progress)
        progress(_("Storing the document"), 90)
        stored = save_upload(
            session,
            io.BytesIO(rendered.data),
            allowed_kinds=["pdf"],
            max_bytes=REPORT_MAX_BYTES,
            uploaded_by=report.requested_by,
            filename=file_name(report),
        )
        report.file_id = stored.id
        report.sha256 = rendered.sha256
        report.state = ReportJobState.DONE
        report.progress = 100
        report.message = _("Ready: %(pages)s pages", pages=rendered.page_count)
        report.finished_at = utcnow()
        record_event(
            session, None, report, "report.generated", after={"sha256": report.sha256, "file": stored.id}
        )
        session.commit()
    except Exception as error:
        session.rollback()
        log.exception("report %s failed", report_id)
        reason = error.message if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
        _write(
            report_id,
            state=ReportJobState.FAILED,
            message=_("The report could not be generated: %(reason)s", reason=reason)[:2000],
            finished_at=utcnow(),
        )
        return ReportJobState.FAILED.value
    return ReportJobState.DONE.value
