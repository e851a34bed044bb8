"""How values are shown: instants in the fund's time zone, money in the reader's locale."""

from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import current_app
from flask_babel import force_locale, format_date, format_datetime, format_decimal, get_locale
from markupsafe import escape

from fundapp.core.money import Money


def fund_timezone():
    return ZoneInfo(current_app.config["FUND_TIMEZONE"])


def to_local(instant):
    """An instant (stored in UTC) as the fund's wall-clock time."""
    return instant.astimezone(fund_timezone()) if instant is not None else None


def fund_today(now=None):
    """Today's date in the fund's calendar (``now``: an instant, default this one)."""
    from fundapp.core.db import utcnow

    return (now or utcnow()).astimezone(fund_timezone()).date()


def local_date(day, fmt="medium"):
    """A calendar date for the reader's locale ("24 Nov 2026")."""
    return "" if day is None else format_date(day, fmt)


def local_datetime(instant, fmt="medium"):
    if instant is None:
        return ""
    local = to_local(instant)
    # Named by its zone ("Asia/Almaty"): some zones have no abbreviation and would read "+05".
    return f"{format_datetime(local.replace(tzinfo=None), fmt)} ({current_app.config['FUND_TIMEZONE']})"


def amount(value):
    """A Money value's number only, in the current locale, with the currency's decimals ("1,234.50"): for
    tables that name the currency once, in a column or the heading."""
    if value is None:
        return ""
    places = value.exponent
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value.amount, format=pattern)


def money(value):
    """Format a Money value for the current locale."""
    return "" if value is None else value.format(str(get_locale() or "en"))


# -- tables of many rows: the same texts, with what Babel reads once per locale kept ---------------------


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
        for probe in (Money(minor, currency), Money(-minor, currency)):
            if _written(probe.minor, text_of) != probe.format(locale):
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


def label_cell(member, locale=None):
    """The text of ``member.label`` (the translated label of a state or kind) for tables of many rows: it is
    translated once per locale. ``locale`` as for ``money_cell``."""
    return _label_text(str(get_locale() or "en") if locale is None else locale, member)


@lru_cache(maxsize=1024)
def _label_text(locale, member):
    with force_locale(locale):
        return escape(member.label)  # what ``{{ member.label }}`` writes (a lazy string is not escaped)


def register_template_helpers(app):
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(money, "money")
    app.add_template_filter(amount, "amount")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(money_cell, "money_cell")
    app.add_template_filter(date_cell, "date_cell")
    app.add_template_filter(label_cell, "label_cell")

    @app.context_processor
    def fund_settings():
        return {
            "fund_name": app.config["FUND_NAME"],
            "fund_short_name": app.config["FUND_SHORT_NAME"],
            "languages": app.config["LANGUAGES"],
            "get_locale": get_locale,
        }
