"""Printed documents: the one place that turns a template from ``templates/pdf/`` into a PDF.

Three rules hold for every PDF the fund produces:

- The template is rendered from **plain values** (str, numbers, dates, Money, dicts and lists of them),
  never ORM objects: a template that walks relationships issues queries from inside the renderer, and
  what it prints would depend on lazy loads rather than on what the caller chose to show. Objects that
  carry SQLAlchemy instance state are refused with a TypeError.
- Resources are fetched only by :class:`StaticOnlyURLFetcher`: files inside the app's static folder and
  ``data:`` URLs. ``file:`` URLs elsewhere, ``http(s):``, ``ftp:`` and every other scheme are refused, so a
  value that ends up in the HTML can never make the renderer read a server file or call another host.
- Templates refer to static files **relative to the static folder** (``css/pdf.css``, ``img/logo.png``):
  the document's base URL is the static folder itself.

Rendering runs without a request as well (in a background job); the locale is then the fund's default
unless the caller passes one.
"""

import hashlib
import mimetypes
from collections.abc import Mapping, Sequence, Set
from contextlib import nullcontext
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

#: Templates for printed documents live here (under the app's template folder).
PDF_TEMPLATE_FOLDER = "pdf/"


class RefusedURL(ValueError):
    """A document asked for a resource the PDF renderer may not fetch."""


class StaticOnlyURLFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves the static folder and ``data:`` URLs, and nothing else.

    WeasyPrint catches the exception raised for a refused URL, logs it and leaves the resource out, so
    the document still renders.
    """

    def __init__(self, static_folder, **kwargs):
        # Only data: goes through urllib's handlers; static files are read here, never through urllib.
        super().__init__(allowed_protocols=("data",), allow_redirects=False, **kwargs)
        self.static_folder = Path(static_folder).resolve()

    @property
    def base_url(self):
        """The static folder as a file URL (with a trailing slash, so relative URLs resolve inside it)."""
        return path2url(str(self.static_folder) + "/")

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self.static_path(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path2url(str(path)), path.read_bytes(), {"Content-Type": content_type})
        raise RefusedURL(f"PDF documents may not load {_shorten(url)}: only static files and data: URLs")

    def static_path(self, url):
        """The file a ``file:`` URL names, if it lies inside the static folder; RefusedURL otherwise.

        The path is resolved (``..``, percent-encoded ``..`` and symlinks followed) before the check, so
        neither a relative path nor a link inside the folder can point outside it.
        """
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"PDF documents may not load files from another host: {_shorten(url)}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.static_folder) or not path.is_file():
            raise RefusedURL(f"PDF documents may only load files of the static folder, not {_shorten(url)}")
        return path


def _shorten(url, limit=120):
    return url if len(url) <= limit else url[:limit] + "..."


def safe_url_fetcher(url, headers=None):
    """Fetch ``url`` for WeasyPrint under the rules of :class:`StaticOnlyURLFetcher` for the current app.

    WeasyPrint 70 wants a fetcher object (an ``URLFetcher`` instance), not a function; this is the same
    check as a function, for code that only needs to ask "may this be loaded?".
    """
    return _fetcher_for_app().fetch(url, headers)


def _fetcher_for_app(app=None):
    app = app or current_app
    return StaticOnlyURLFetcher(app.static_folder)


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered document with what is worth recording about it."""

    data: bytes
    page_count: int

    @property
    def sha256(self):
        return pdf_sha256(self.data)

    @property
    def size_bytes(self):
        return len(self.data)


def render_pdf(template_name, /, *, locale=None, **context):
    """Render ``templates/<template_name>`` (which must be under ``pdf/``) to PDF bytes.

    ``context`` must hold plain values only (see the module docstring); ``fund_name``, ``fund_short_name``
    and ``locale`` are added for the base layout. ``locale`` defaults to the request's locale, or the
    fund's default language outside a request.
    """
    return render_pdf_document(template_name, locale=locale, **context).data


def render_pdf_document(template_name, /, *, locale=None, **context):
    """Like :func:`render_pdf`, returning a :class:`RenderedPdf` (bytes, page count, SHA-256)."""
    if not template_name.startswith(PDF_TEMPLATE_FOLDER):
        raise ValueError(f"PDF templates live in templates/{PDF_TEMPLATE_FOLDER}; got {template_name!r}")
    for name, value in context.items():
        refuse_orm_objects(value, name)

    app = current_app._get_current_object()
    if locale is None and not has_request_context():
        locale = app.config.get("BABEL_DEFAULT_LOCALE", "en")
    with _maybe_force_locale(locale):
        values = {
            "fund_name": app.config["FUND_NAME"],
            "fund_short_name": app.config["FUND_SHORT_NAME"],
            "locale": str(get_locale() or "en"),
            **context,
        }
        html = app.jinja_env.get_template(template_name).render(values)
        fetcher = _fetcher_for_app(app)
        document = HTML(string=html, base_url=fetcher.base_url, url_fetcher=fetcher).render()
        return RenderedPdf(data=document.write_pdf(), page_count=len(document.pages))


def _maybe_force_locale(locale):
    if locale is None:
        return nullcontext()
    return force_locale(locale)


def pdf_sha256(data):
    """The hex SHA-256 of a rendered document, to record what was issued."""
    return hashlib.sha256(data).hexdigest()


def refuse_orm_objects(value, name="value", _seen=None):
    """Raise TypeError if ``value`` is, or contains, an ORM instance.

    Walks mappings, sequences, sets and dataclass fields; anything else is taken as a plain value.
    """
    if isinstance(value, str | bytes | bytearray | int | float | bool | type(None)):
        return
    seen = _seen if _seen is not None else set()
    if id(value) in seen:
        return
    seen.add(id(value))
    if hasattr(value, "_sa_instance_state"):
        raise TypeError(
            f"PDF context value {name!r} is an ORM object ({type(value).__name__}); pass plain values "
            "(strings, numbers, dates, Money, dicts and lists of them) instead"
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            refuse_orm_objects(item, f"{name}[{key!r}]", seen)
    elif isinstance(value, Sequence | Set):
        for index, item in enumerate(value):
            refuse_orm_objects(item, f"{name}[{index}]", seen)
    elif is_dataclass(value) and not isinstance(value, type):
        for field in fields(value):
            refuse_orm_objects(getattr(value, field.name), f"{name}.{field.name}", seen)
