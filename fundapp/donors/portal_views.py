"""The donor portal, under /portal: a donor's contacts see their contributions, the projects their money
funds, and their reports; nothing of any other donor.

A user with the DONOR role who is a contact of a donor (``DonorContact.user_id``) sees that donor. Every
object in a URL is checked against it: a grant their money does not fund, a photo of another grant, any
id changed by hand answers 404. Anyone without the donor role gets 403, anonymous visitors the login page.
"""

from functools import lru_cache

from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import Blueprint, abort, current_app, render_template
from flask_babel import force_locale, get_locale
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import select

from fundapp.core.formatting import local_date
from fundapp.core.money import Money
from fundapp.core.permissions import Role
from fundapp.core.storage import send_stored_file
from fundapp.disbursements.models import Grant, GrantReport, ReportFile, ReportFileKind, ReportState
from fundapp.donors import queries
from fundapp.donors.models import Donor, DonorContact, GeneratedReport, ReportJobState, ReportKind
from fundapp.extensions import db, login_manager

bp = Blueprint("portal", __name__)

#: (locale, currency) -> how ``Money.format`` writes amounts of it there, or None where only it can.
_MONEY_TEXT = {}
#: Amounts whose text is checked against ``Money.format`` before the shortcut is trusted for a currency.
_PROBES = (0, 1, 7, 10, 99, 100, 1234, 12345, 123456, 1234567, 12345678, 123456789012, 10**15 + 5)


def _money_text_of(locale, currency):
    """``(exponent, group symbol, group sizes, decimal symbol, (prefix, suffix) by sign)`` that rebuild what
    ``Money.format`` writes for ``currency`` in ``locale``, or None when they do not give the same text for
    every probe (a pattern with significant digits, an exponent, a scale... : it then formats each amount)."""
    babel_locale = Locale.parse(locale.replace("-", "_"))
    pattern = babel_locale.currency_formats["standard"]
    if pattern.exp_prec or pattern.scale or "@" in pattern.pattern or not pattern.number_pattern:
        return None
    exponent = Money.zero(currency).exponent
    decimal = get_decimal_symbol(babel_locale)
    one = "1" + (decimal + "0" * exponent if exponent else "")
    affixes = []
    for sign in (1, -1):
        text = Money(sign * 10**exponent, currency).format(locale)
        before, found, after = text.partition(one)
        if not found or one in after:
            return None
        affixes.append((before, after))
    text_of = (exponent, get_group_symbol(babel_locale), pattern.grouping, decimal, tuple(affixes))
    for minor in _PROBES:
        for amount in (Money(minor, currency), Money(-minor, currency)):
            if _written(amount.minor, text_of) != amount.format(locale):
                return None
    return text_of


def _written(minor, text_of):
    """``minor`` units written as ``text_of`` (of ``_money_text_of``) says, as Babel groups the digits."""
    exponent, group, (first, then), decimal, affixes = text_of
    whole, fraction = divmod(abs(minor), 10**exponent)
    if (first, then) == (3, 3):  # by thousands, as Python's own format groups them
        number = f"{whole:,}".replace(",", group)
    else:
        digits, number, size = str(whole), "", first
        while len(digits) > size:
            number = group + digits[-size:] + number
            digits = digits[:-size]
            size = then
        number = digits + number
    if exponent:
        number += decimal + str(fraction).zfill(exponent)
    prefix, suffix = affixes[minor < 0]
    return prefix + number + suffix


@bp.app_template_filter("money_cell")
def money_cell(value, locale=None):
    """The text of ``|money`` (``Money.format`` in the reader's locale) for tables of many amounts: the
    locale's pattern for the currency is read from Babel once, not for every amount. ``locale``: the
    reader's, as a string (``get_locale()|string``), given once per table saves asking for it per amount."""
    if value is None:
        return ""
    if locale is None:
        locale = str(get_locale() or "en")
    key = (locale, value.currency)
    if key not in _MONEY_TEXT:
        _MONEY_TEXT[key] = _money_text_of(locale, value.currency)
    text_of = _MONEY_TEXT[key]
    if text_of is None or abs(value.minor) >= 10**18:  # beyond Decimal's default precision, as Babel reads it
        return value.format(locale)
    return _written(value.minor, text_of)


@bp.app_template_filter("date_cell")
def date_cell(day, locale=None):
    """The text of ``|local_date`` for tables of many dates: Babel formats a date once per locale, not for
    every row. ``locale`` as for ``money_cell``."""
    if day is None:
        return ""
    return _date_text(str(get_locale() or "en") if locale is None else locale, day)


@lru_cache(maxsize=4096)
def _date_text(locale, day):
    with force_locale(locale):
        return local_date(day)


@bp.app_template_filter("label_cell")
def label_cell(member, locale=None):
    """The text of ``member.label`` (the translated label of a state or kind) for tables of many rows: it is
    translated once per locale. ``locale`` as for ``money_cell``."""
    return _label_text(str(get_locale() or "en") if locale is None else locale, member)


@lru_cache(maxsize=1024)
def _label_text(locale, member):
    with force_locale(locale):
        return escape(member.label)  # what ``{{ member.label }}`` writes (a lazy string is not escaped)


@bp.before_request
def _require_donor():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role(Role.DONOR):
        abort(403)
    return None


def donor_of(user):
    """The donor whose contact ``user`` is (the first, should an account be linked to several)."""
    return db.session.scalar(
        select(Donor)
        .join(DonorContact, DonorContact.donor_id == Donor.id)
        .where(DonorContact.user_id == user.id)
        .order_by(Donor.id)
        .limit(1)
    )


def _my_donor():
    donor = donor_of(current_user)
    if donor is None or not donor.can_view(current_user):
        abort(403)
    return donor


def _funded_grant(donor, reference):
    grant = db.session.scalar(select(Grant).where(Grant.reference == reference))
    if grant is None or not queries.funds_project(db.session, donor, grant):
        abort(404)
    return grant


def _reports(donor):
    return db.session.scalars(
        select(GeneratedReport)
        .where(
            GeneratedReport.kind == ReportKind.DONOR,
            GeneratedReport.donor_id == donor.id,
            GeneratedReport.state == ReportJobState.DONE,
        )
        .order_by(GeneratedReport.requested_at.desc())
    ).all()


@bp.route("/")
def home():
    donor = _my_donor()
    overview = queries.donor_overview(db.session, donor)
    return render_template(
        "portal/home.html",
        donor=donor,
        figures=overview.figures,
        contributions=overview.contributions,
        projects=overview.projects,
        reports=_reports(donor),
        can_download="reports.download" in current_app.view_functions,
    )


@bp.route("/projects/<reference>")
def project(reference):
    donor = _my_donor()
    grant = _funded_grant(donor, reference)
    row = next((p for p in queries.funded_projects(db.session, donor) if p.grant_id == grant.id), None)
    if row is None:  # funded once, all given back: nothing to show as theirs
        abort(404)
    return render_template(
        "portal/project.html",
        donor=donor,
        project=row,
        indicators=queries.indicators_of(db.session, [grant.id])[grant.id],
        photos=queries.photos_of(db.session, [grant.id])[grant.id],
    )


@bp.route("/projects/<reference>/photos/<int:photo_id>")
def photo(reference, photo_id):
    """A photo of an accepted report of a grant the donor funds (by ``ReportFile`` id)."""
    donor = _my_donor()
    grant = _funded_grant(donor, reference)
    report_file = db.session.scalar(
        select(ReportFile)
        .join(GrantReport, GrantReport.id == ReportFile.report_id)
        .where(
            ReportFile.id == photo_id,
            GrantReport.grant_id == grant.id,
            GrantReport.state == ReportState.ACCEPTED,
            ReportFile.kind == ReportFileKind.PHOTO,
        )
    )
    if report_file is None:
        abort(404)
    return send_stored_file(report_file.stored_file)
