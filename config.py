"""Settings for fundapp.

Every setting has a default that lets a new user run the site with nothing but Python; environment
variables (``FUNDAPP_*``) override them. ``ProductionConfig`` refuses to start without the two settings
that must never fall back to a default: a secret key and a database URL.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def database_url(url):
    """Use psycopg 3 for PostgreSQL URLs given in the common short form."""
    if url and url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _env_bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name, default):
    value = _env(name)
    return int(value) if value is not None else default


class Config:
    INSTANCE_PATH = _env("FUNDAPP_INSTANCE_PATH", str(PROJECT_ROOT / "instance"))

    SECRET_KEY = _env("FUNDAPP_SECRET_KEY", "dev-only-secret-change-me")
    SQLALCHEMY_DATABASE_URI = database_url(
        _env("FUNDAPP_DATABASE_URL", "sqlite:///" + str(Path(INSTANCE_PATH) / "fundapp.sqlite3"))
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = _env("FUNDAPP_REDIS_URL")
    #: Where the site is served, for links in mails sent outside a request (commands, background jobs).
    BASE_URL = _env("FUNDAPP_BASE_URL", "http://127.0.0.1:5000")

    # Fund settings: nothing in the code is tied to one fund or one country.
    FUND_NAME = _env("FUNDAPP_FUND_NAME", "International Biodiversity Fund of Kazakhstan")
    FUND_SHORT_NAME = _env("FUNDAPP_FUND_SHORT_NAME", "IBF")
    FUND_COUNTRY = _env("FUNDAPP_FUND_COUNTRY", "KZ")
    BASE_CURRENCY = _env("FUNDAPP_BASE_CURRENCY", "KZT")
    FUND_TIMEZONE = _env("FUNDAPP_TIMEZONE", "Asia/Almaty")
    #: The fund's own bank account, the debtor of the payment files it sends its bank (demo values).
    FUND_BANK_NAME = _env("FUNDAPP_BANK_NAME", "Halyk Bank of Kazakhstan")
    FUND_BANK_IBAN = _env("FUNDAPP_BANK_IBAN", "KZ87125KZT1001300313")
    FUND_BANK_BIC = _env("FUNDAPP_BANK_BIC", "HSBKKZKX")
    #: Prefixes of the references the fund gives out, e.g. IBF-2026-0001 for a grant.
    REFERENCE_PREFIXES = {
        "call": _env("FUNDAPP_PREFIX_CALL", "CALL"),
        "proposal": _env("FUNDAPP_PREFIX_PROPOSAL", "PRP"),
        "grant": _env("FUNDAPP_PREFIX_GRANT", "IBF"),
        "meeting": _env("FUNDAPP_PREFIX_MEETING", "BRD"),
        "donor": _env("FUNDAPP_PREFIX_DONOR", "DNR"),
    }

    # Open data (IATI 2.03 and 360Giving 1.4, fundapp.reports.opendata). An organisation identifier is an
    # org-id.guide list code plus the organisation's id on that list: "<FUND_ORG_ID_PREFIX>-<BIN>" for the
    # fund and for every grantee (a Kazakh legal entity's 12-digit business identification number). The
    # defaults are placeholders: before publishing, confirm the list code on org-id.guide (or have one
    # added), set the fund's own BIN, and register the fund's 360Giving prefix with 360Giving.
    FUND_ORG_ID_PREFIX = _env("FUNDAPP_ORG_ID_PREFIX", "KZ-BIN")
    FUND_BIN = _env("FUNDAPP_FUND_BIN", "000000000000")
    #: IATI OrganisationType of the fund: 60 Foundation (15 Other Public Sector for a state body).
    FUND_IATI_ORG_TYPE = _env("FUNDAPP_FUND_IATI_ORG_TYPE", "60")
    #: The 360Giving prefix of grant ids ("360G-" and the funder's registered part).
    GRANT_360_PREFIX = _env("FUNDAPP_360G_PREFIX", "360G-ibfkz")
    #: The licence the open-data files are published under (its canonical address).
    OPEN_DATA_LICENSE = _env("FUNDAPP_OPEN_DATA_LICENSE", "https://creativecommons.org/licenses/by/4.0/")

    # Grants: the default tranche schedule (percent of the grant per tranche; the last waits for the final
    # report, the ones between for a progress report each), the spending variance per budget line that
    # needs an explanation in a financial report, and how long after the end of the project the final
    # report is due.
    GRANT_TRANCHE_PERCENTS = [40, 40, 20]
    REPORT_VARIANCE_PERCENT = _env_int("FUNDAPP_REPORT_VARIANCE_PERCENT", 10)
    FINAL_REPORT_DAYS = _env_int("FUNDAPP_FINAL_REPORT_DAYS", 30)
    #: A report this many days overdue gets a reminder, then one a week.
    REPORT_REMINDER_DAYS = _env_int("FUNDAPP_REPORT_REMINDER_DAYS", 7)

    LANGUAGES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    # Mail: in development every message is written to instance/outbox/ instead of being sent.
    MAIL_BACKEND = _env("FUNDAPP_MAIL_BACKEND", "file")  # "file" or "smtp"
    MAIL_SERVER = _env("FUNDAPP_MAIL_SERVER", "localhost")
    MAIL_PORT = _env_int("FUNDAPP_MAIL_PORT", 25)
    MAIL_USERNAME = _env("FUNDAPP_MAIL_USERNAME")
    MAIL_PASSWORD = _env("FUNDAPP_MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("FUNDAPP_MAIL_USE_TLS")
    MAIL_DEFAULT_SENDER = _env("FUNDAPP_MAIL_DEFAULT_SENDER", "grants@fund.example")

    # Files uploaded by users live outside any static folder.
    STORAGE_PATH = _env("FUNDAPP_STORAGE_PATH", str(Path(INSTANCE_PATH) / "files"))
    MAX_CONTENT_LENGTH = _env_int("FUNDAPP_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    #: Largest single attachment to a proposal (the whole request may be up to MAX_CONTENT_LENGTH).
    PROPOSAL_ATTACHMENT_MAX_BYTES = _env_int("FUNDAPP_PROPOSAL_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)

    # Sessions and security.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    PASSWORD_RESET_MAX_AGE = _env_int("FUNDAPP_PASSWORD_RESET_MAX_AGE", 3600)
    INVITATION_MAX_AGE_DAYS = _env_int("FUNDAPP_INVITATION_MAX_AGE_DAYS", 14)

    # Rate limits on login: per client address and per account.
    RATELIMIT_STORAGE_URI = _env("FUNDAPP_RATELIMIT_STORAGE_URL", REDIS_URL or "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ADDRESS = _env("FUNDAPP_LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = _env("FUNDAPP_LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None


class DevelopmentConfig(Config):
    DEBUG = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - tests only
    SQLALCHEMY_DATABASE_URI = database_url(_env("FUNDAPP_TEST_DATABASE_URL", "sqlite://"))
    SQLALCHEMY_ENGINE_OPTIONS = {}
    RATELIMIT_STORAGE_URI = "memory://"
    REDIS_URL = None
    MAIL_BACKEND = "memory"
    PASSWORD_HASH_FAST = True  # argon2 with small costs keeps the suite quick


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    MAIL_BACKEND = _env("FUNDAPP_MAIL_BACKEND", "smtp")

    @classmethod
    def check(cls):
        """Refuse to start with a default secret key or database."""
        missing = [
            name for name in ("FUNDAPP_SECRET_KEY", "FUNDAPP_DATABASE_URL") if not os.environ.get(name)
        ]
        if missing:
            raise RuntimeError(
                "ProductionConfig refuses to start: set " + " and ".join(missing) + " in the environment."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
