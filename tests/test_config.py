"""Settings: production refuses to start on defaults; URLs use psycopg 3."""

import pytest

import config
from fundapp import create_app


def test_production_refuses_to_start_without_secret_key_and_database(monkeypatch):
    monkeypatch.delenv("FUNDAPP_SECRET_KEY", raising=False)
    monkeypatch.delenv("FUNDAPP_DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="FUNDAPP_SECRET_KEY and FUNDAPP_DATABASE_URL"):
        create_app("production")


def test_production_refuses_to_start_without_database(monkeypatch):
    monkeypatch.setenv("FUNDAPP_SECRET_KEY", "s3cret")
    monkeypatch.delenv("FUNDAPP_DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="FUNDAPP_DATABASE_URL"):
        create_app("production")


def test_production_cookies_are_secure():
    assert config.ProductionConfig.SESSION_COOKIE_SECURE is True
    assert config.ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"
    assert config.ProductionConfig.SESSION_COOKIE_HTTPONLY is True


def test_fund_settings_default_to_the_kazakh_fund():
    assert config.Config.BASE_CURRENCY == "KZT"
    assert config.Config.FUND_TIMEZONE == "Asia/Almaty"
    assert config.Config.REFERENCE_PREFIXES["grant"] == "IBF"


def test_postgresql_urls_use_psycopg3():
    assert config.database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.database_url("sqlite:///x.db") == "sqlite:///x.db"
