"""How values are shown: instants in the fund's time zone, money in the reader's locale."""

from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date, format_datetime, format_decimal, get_locale


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


def register_template_helpers(app):
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(money, "money")
    app.add_template_filter(amount, "amount")
    app.add_template_filter(local_date, "local_date")

    @app.context_processor
    def fund_settings():
        return {
            "fund_name": app.config["FUND_NAME"],
            "fund_short_name": app.config["FUND_SHORT_NAME"],
            "languages": app.config["LANGUAGES"],
            "get_locale": get_locale,
        }
