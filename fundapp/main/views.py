"""The home page: a public welcome, or for a signed-in person the next actions of each role they hold."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from fundapp.core.navigation import next_actions_by_role
from fundapp.core.web import safe_next_url
from fundapp.extensions import db

bp = Blueprint("main", __name__)


@bp.app_context_processor
def navigation():
    from fundapp.core.navigation import navigation_items

    return {"navigation_items": navigation_items}


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    return render_template("main/home.html", sections=next_actions_by_role(current_user))


@bp.route("/language", methods=["POST"])
def set_language():
    """Remember the reader's language (in the session, and on their account when signed in)."""
    language = request.form.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = language
    if current_user.is_authenticated:
        current_user.locale = language
        db.session.commit()
    return redirect(safe_next_url(url_for("main.home")))


@bp.route("/healthz")
def healthz():
    """A liveness check for load balancers and the floor of the load test (bench/load.py): the stack
    (server, Flask, the request hooks) without a template or a database query."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)
