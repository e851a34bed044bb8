"""fundapp: grant management for a biodiversity conservation fund."""

import importlib
import logging
import os
import uuid
from pathlib import Path

from flask import Flask, has_request_context, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

import config as config_module
from fundapp.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("fundapp")

#: Content-Security-Policy: nothing inline, nothing from another host.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(config=None):
    """Build the app. ``config`` is a config class, a name from config.CONFIGS, or None (FUNDAPP_CONFIG)."""
    if config is None or isinstance(config, str):
        config = config_module.CONFIGS[config or os.environ.get("FUNDAPP_CONFIG", "development")]
    if hasattr(config, "check"):
        config.check()

    app = Flask(
        __name__,
        instance_path=config.INSTANCE_PATH,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_object(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    _init_extensions(app)
    _register_models()
    _register_blueprints(app)
    _register_error_pages(app)
    _register_request_hooks(app)

    from fundapp.cli import register_commands

    register_commands(app)
    return app


def _init_extensions(app):
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "UTC")
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    from fundapp.core.db import configure_engine

    with app.app_context():
        configure_engine(db.engine)

    from fundapp.core.formatting import register_template_helpers

    register_template_helpers(app)


def _select_locale():
    languages = list(config_module.Config.LANGUAGES)
    if not has_request_context():
        return "en"
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages) or "en"


#: Every module's models; imported before anything else so that every relationship resolves before a module
#: that builds queries (loader options) at import time is loaded.
MODEL_MODULES = [
    f"fundapp.{name}"
    for name in (
        "accounts.models",
        "applications.models",
        "board.models",
        "core.audit",
        "core.mail",
        "core.storage",
        "disbursements.models",
        "donors.models",
        "reference.models",
        "reviews.models",
    )
]
#: The modules that register a home-page dashboard.
DASHBOARD_MODULES = [
    f"fundapp.{name}.dashboard"
    for name in ("accounts", "applications", "board", "disbursements", "donors", "reference", "reviews")
]


def _register_models():
    """Import every module's models so SQLAlchemy (and Alembic) know all tables, then the dashboards."""
    for name in MODEL_MODULES + DASHBOARD_MODULES:
        importlib.import_module(name)


def _register_blueprints(app):
    from fundapp.accounts.views import bp as accounts_bp
    from fundapp.admin.views import bp as admin_bp
    from fundapp.applications.officer_views import bp as calls_bp
    from fundapp.applications.submission_views import bp as submission_bp
    from fundapp.applications.views import bp as proposals_bp
    from fundapp.board.views import bp as board_bp
    from fundapp.disbursements.finance_views import bp as finance_bp
    from fundapp.disbursements.report_views import bp as grant_reports_bp
    from fundapp.disbursements.views import bp as grants_bp
    from fundapp.donors.portal_views import bp as portal_bp
    from fundapp.donors.views import bp as donors_bp
    from fundapp.main.views import bp as main_bp
    from fundapp.reference.views import bp as reference_bp
    from fundapp.reports.opendata_views import bp as opendata_bp
    from fundapp.reports.opendata_views import exports_bp
    from fundapp.reports.views import bp as reports_bp
    from fundapp.reviews.officer_views import bp as review_admin_bp
    from fundapp.reviews.officer_views import profile_bp as reviewer_profile_bp
    from fundapp.reviews.ranking_views import bp as ranking_bp
    from fundapp.reviews.reviewer_views import bp as reviewing_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(reference_bp, url_prefix="/admin/reference")
    app.register_blueprint(calls_bp)
    app.register_blueprint(proposals_bp)
    app.register_blueprint(submission_bp)
    app.register_blueprint(reviewing_bp)
    app.register_blueprint(ranking_bp)
    app.register_blueprint(review_admin_bp, url_prefix="/officer/reviews")
    app.register_blueprint(reviewer_profile_bp, url_prefix="/reviewer/profile")
    app.register_blueprint(board_bp)
    app.register_blueprint(grants_bp, url_prefix="/grants")
    app.register_blueprint(grant_reports_bp, url_prefix="/grants")
    app.register_blueprint(finance_bp, url_prefix="/finance")
    app.register_blueprint(donors_bp, url_prefix="/donors")
    app.register_blueprint(portal_bp, url_prefix="/portal")
    app.register_blueprint(opendata_bp, url_prefix="/open-data")
    app.register_blueprint(exports_bp, url_prefix="/exports")
    app.register_blueprint(reports_bp, url_prefix="/reports")


def _register_error_pages(app):
    messages = {
        400: _("The request could not be understood. Go back, reload the page and try again."),
        403: _("You do not have permission to see this page."),
        404: _("There is no page at this address."),
        405: _("This page does not accept that kind of request."),
        413: _("The file is too large. Upload a smaller one."),
        429: _("Too many attempts. Wait a few minutes before you try again."),
    }

    def render_error(status, message, reference=None):
        page = render_template("errors/error.html", status=status, message=message, reference=reference)
        return page, status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, _("Your form expired or was sent from elsewhere. Reload the page and send it again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code >= 500:
            return internal_error(error)
        message = messages.get(error.code) or error.description
        return render_error(error.code, message)

    @app.errorhandler(Exception)
    def internal_error(error):
        reference = uuid.uuid4().hex[:12]
        log.error(
            "Unhandled error, reference %s, on %s %s", reference, request.method, request.path, exc_info=error
        )
        db.session.rollback()
        return render_error(
            500, _("Something went wrong on our side. If it happens again, quote this reference."), reference
        )


def _register_request_hooks(app):
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
