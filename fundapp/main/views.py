"""The home page: a public welcome, or for a signed-in person the next actions of each role they hold."""

from flask import Blueprint, render_template
from flask_login import current_user

from fundapp.core.navigation import next_actions_by_role

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
