"""Uploaded files: checked by content, size-limited, stored under random names outside any static folder.

A file is only accepted when what it *is* (read from its bytes, not its name or the browser's claimed
type) is one of the kinds the caller allows. It is stored under a random key, never under the name it
came with, and leaves again only through :func:`send_stored_file`, which a view calls after checking
permission: always as an attachment, with the type we detected and ``nosniff``.

Storage sits behind a tiny interface (:class:`LocalStorage` today) so an S3-compatible store can be added
without touching callers. Files written in a transaction that is rolled back are deleted again.
"""

import hashlib
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import filetype
from flask import current_app, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from fundapp.core.db import Base, UTCDateTime, utcnow
from fundapp.core.errors import DomainError

_CHUNK = 64 * 1024
_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class FileKind:
    name: str
    #: How the kind is listed among the allowed ones ("PDF"); lazily translated.
    label: object
    #: What a file of this kind is, in a sentence ("a PDF document"); lazily translated.
    description: object
    content_type: str
    extensions: tuple[str, ...]

    @property
    def extension(self):
        return self.extensions[0]


_WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_POWERPOINT = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

#: The kinds of file a caller may allow, by name.
KINDS = {
    kind.name: kind
    for kind in (
        FileKind("pdf", _l("PDF"), _l("a PDF document"), "application/pdf", (".pdf",)),
        FileKind("png", _l("PNG image"), _l("a PNG image"), "image/png", (".png",)),
        FileKind("jpeg", _l("JPEG image"), _l("a JPEG image"), "image/jpeg", (".jpg", ".jpeg")),
        FileKind("docx", _l("Word document (.docx)"), _l("a Word document"), _WORD, (".docx",)),
        FileKind("xlsx", _l("Excel workbook (.xlsx)"), _l("an Excel workbook"), _EXCEL, (".xlsx",)),
        FileKind(
            "pptx",
            _l("PowerPoint presentation (.pptx)"),
            _l("a PowerPoint presentation"),
            _POWERPOINT,
            (".pptx",),
        ),
        FileKind(
            "odt",
            _l("OpenDocument text (.odt)"),
            _l("an OpenDocument text"),
            "application/vnd.oasis.opendocument.text",
            (".odt",),
        ),
        FileKind(
            "ods",
            _l("OpenDocument spreadsheet (.ods)"),
            _l("an OpenDocument spreadsheet"),
            "application/vnd.oasis.opendocument.spreadsheet",
            (".ods",),
        ),
        FileKind("csv", _l("CSV table"), _l("plain text"), "text/csv", (".csv",)),
    )
}

#: Which of our kinds filetype's matchers map to.
_FILETYPE_KINDS = {"pdf": "pdf", "png": "png", "jpg": "jpeg"}
#: Office documents are ZIP files; the part that makes each one what it is.
_OOXML_PARTS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx", "ppt/presentation.xml": "pptx"}
_OPENDOCUMENT_TYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}
#: Bytes that do not occur in a text file (controls other than tab, newline, form feed, carriage return).
_BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13}) + b"\x7f"


class StoredFile(Base):
    """A file someone uploaded (or the fund generated), kept under a random key."""

    __tablename__ = "stored_file"
    __table_args__ = (
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Random name of the file in storage; never derived from what the uploader called it.
    key: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    #: The uploader's file name, cleaned, offered as the download name and never used as a path.
    original_name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: The type detected from the content, not the one the browser claimed.
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def kind(self):
        """The :class:`FileKind` of this file, or None for a type no longer listed."""
        return next((k for k in KINDS.values() if k.content_type == self.content_type), None)

    def __repr__(self):
        return f"<StoredFile {self.id} {self.key} {self.original_name!r}>"


class LocalStorage:
    """Files on the local disk, under ``root/<key[:2]>/<key>``.

    The interface (``save``, ``open``, ``delete``, ``exists``, ``local_path``) is what a store for an
    S3-compatible service would implement; ``local_path`` may then return None.
    """

    def __init__(self, root):
        self.root = Path(root)

    def _path(self, key):
        if not _KEY_PATTERN.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def save(self, key, source):
        """Write the binary file object ``source`` (read from its current position) under ``key``.

        The bytes go to a temporary file in the same folder first and are renamed into place, so a
        crash never leaves a half-written file under a real key.
        """
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(descriptor, "wb") as out:
                while chunk := source.read(_CHUNK):
                    out.write(chunk)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key):
        return self._path(key).open("rb")

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def exists(self, key):
        return self._path(key).is_file()

    def local_path(self, key):
        return self._path(key)


def get_storage(app=None):
    """The file store configured for ``app`` (default: the current app)."""
    app = app or current_app
    root = Path(app.config["STORAGE_PATH"]).resolve()
    if app.static_folder and root.is_relative_to(Path(app.static_folder).resolve()):
        raise RuntimeError("STORAGE_PATH must not be inside the static folder: uploads would be public")
    return LocalStorage(root)


def save_upload(session, upload, *, allowed_kinds, max_bytes=None, uploaded_by=None, filename=None):
    """Check an upload and store it; return the new (flushed) :class:`StoredFile`.

    ``upload`` is a werkzeug ``FileStorage`` or a binary file object; ``filename`` overrides its name.
    ``allowed_kinds`` names entries of :data:`KINDS`. ``max_bytes`` defaults to ``MAX_CONTENT_LENGTH``.
    Raises DomainError, and writes nothing, for an empty file, a file over the limit or content that is
    not one of the allowed kinds. Never commits; if the transaction is rolled back, the file is deleted.
    """
    allowed = [KINDS[name] for name in allowed_kinds]  # KeyError for a kind we do not know: a bug
    if not allowed:
        raise ValueError("allowed_kinds must name at least one kind")
    if max_bytes is None:
        max_bytes = current_app.config["MAX_CONTENT_LENGTH"]
    name = filename or getattr(upload, "filename", None) or getattr(upload, "name", None) or ""
    shown_name = clean_filename(name)
    stream = getattr(upload, "stream", upload)

    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        digest = hashlib.sha256()
        size = 0
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if max_bytes and size > max_bytes:
                raise DomainError(
                    _(
                        "The file “%(name)s” is larger than the limit of %(limit)s. Upload a smaller file.",
                        name=shown_name,
                        limit=format_size(max_bytes),
                    ),
                    field="file",
                )
            digest.update(chunk)
            spool.write(chunk)
        if size == 0:
            raise DomainError(
                _("The file “%(name)s” is empty. Choose the file again and upload it.", name=shown_name),
                field="file",
            )

        spool.seek(0)
        kind_name, received = detect_kind(spool)
        kind = KINDS.get(kind_name)
        if kind is None or kind.name not in {k.name for k in allowed}:
            raise DomainError(
                _(
                    "The file “%(name)s” is %(received)s, which cannot be uploaded here. "
                    "Allowed: %(allowed)s.",
                    name=shown_name,
                    received=received,
                    allowed=", ".join(str(k.label) for k in allowed),
                ),
                field="file",
            )

        key = secrets.token_hex(16)
        spool.seek(0)
        storage = get_storage()
        storage.save(key, spool)

    _remember_written(session, storage, key)
    stored = StoredFile(
        key=key,
        original_name=_with_extension(shown_name, kind),
        content_type=kind.content_type,
        size_bytes=size,
        sha256=digest.hexdigest(),
        uploaded_by_id=uploaded_by.id if uploaded_by is not None else None,
    )
    session.add(stored)
    session.flush()
    return stored


def detect_kind(file):
    """What a file is, from its bytes: ``(kind name or None, description for a person)``.

    ``file`` is a seekable binary file object positioned at the start.
    """
    head = file.read(8192)
    file.seek(0)
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_document_kind(file)
        file.seek(0)
        if kind:
            return kind, str(KINDS[kind].description)
        return None, _("a ZIP archive")
    guess = filetype.guess(head)
    if guess is not None:
        kind = _FILETYPE_KINDS.get(guess.extension)
        if kind:
            return kind, str(KINDS[kind].description)
        return None, _("a file of type %(type)s", type=guess.mime)
    if _is_text(file):
        file.seek(0)
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            return None, _("an HTML or XML document")
        return "csv", str(KINDS["csv"].description)
    file.seek(0)
    return None, _("a file of unknown type")


def _zip_document_kind(file):
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                for part, kind in _OOXML_PARTS.items():
                    if part in names:
                        return kind
            if "mimetype" in names and archive.getinfo("mimetype").file_size <= 100:
                return _OPENDOCUMENT_TYPES.get(archive.read("mimetype").strip())
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        return None
    return None


def _is_text(file):
    while chunk := file.read(_CHUNK):
        if chunk.translate(None, _BINARY_BYTES) != chunk:
            return False
    return True


def clean_filename(name, limit=200):
    """A file name safe to show and to offer as a download name: no path, no control characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '<>:"|?*')
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name:
        return "file"
    if len(name) > limit:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: limit - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:limit].rstrip(" .")
    return name


def _with_extension(name, kind):
    """The name with the extension of what the file really is, so it opens in the right program."""
    stem, dot, extension = name.rpartition(".")
    if dot and "." + extension.lower() in kind.extensions:
        return name
    base = stem if dot and stem and len(extension) <= 10 else name
    return base[: 200 - len(kind.extension)] + kind.extension


def format_size(size):
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} bytes"


def open_stored(stored_file):
    """The stored bytes as a binary file object (the caller closes it)."""
    return get_storage().open(stored_file.key)


def send_stored_file(stored_file):
    """A response that downloads the file. Call it only after checking the user may see the file."""
    storage = get_storage()
    local_path = storage.local_path(stored_file.key)
    source = local_path if local_path is not None else storage.open(stored_file.key)
    response = send_file(
        source,
        mimetype=stored_file.content_type,
        as_attachment=True,
        download_name=stored_file.original_name,
        conditional=True,
        etag=stored_file.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even if a browser were talked into rendering it, the file runs nothing and loads nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def stored_bytes(stored_file):
    """The whole content of a stored file (for small files: checks, thumbnails, tests)."""
    with open_stored(stored_file) as file:
        return file.read()


def _remember_written(session, storage, key):
    session.info.setdefault("storage_written", []).append((storage, key))


@event.listens_for(Session, "after_commit")
def _keep_written_files(session):
    session.info.pop("storage_written", None)


@event.listens_for(Session, "after_transaction_end")
def _delete_uncommitted_files(session, transaction):
    """A transaction that ended without a commit (rollback, or a session closed) takes its files along."""
    if transaction.parent is not None:
        return
    for storage, key in session.info.pop("storage_written", None) or ():
        storage.delete(key)


__all__ = [
    "KINDS",
    "FileKind",
    "LocalStorage",
    "StoredFile",
    "clean_filename",
    "detect_kind",
    "get_storage",
    "open_stored",
    "save_upload",
    "send_stored_file",
    "stored_bytes",
]
