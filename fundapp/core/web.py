"""Small helpers views share."""

from urllib.parse import urlsplit

from flask import current_app, flash, has_request_context, request, url_for


def show_domain_error(error, form=None):
    """Put a DomainError next to its form field when it names one, else flash it."""
    field = getattr(form, error.field, None) if form is not None and error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message] if isinstance(field.errors, list) else [error.message]
    else:
        flash(error.message, "error")


def safe_next_url(default):
    """The ``next`` parameter if it points inside this site, else ``default`` (no open redirects)."""
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default


def external_url(endpoint, **values):
    """An absolute link to ``endpoint`` for a mail: from the request being served, or, outside any request
    (a command, a background job), from the BASE_URL setting."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for(endpoint, _external=True, **values)
