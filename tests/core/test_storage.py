"""Uploads: accepted by what they are, refused clearly otherwise, stored under random names, served safely."""

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from fundapp.core.errors import DomainError
from fundapp.core.storage import (
    LocalStorage,
    StoredFile,
    clean_filename,
    get_storage,
    save_upload,
    send_stored_file,
    stored_bytes,
)
from tests import factories
from tests.core.sample_files import MINIMAL_PDF, png_bytes


def upload(data, filename, content_type="application/octet-stream"):
    """What a browser sends; the claimed type is deliberately unhelpful."""
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


def office_file(parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts:
            archive.writestr(name, content)
    return buffer.getvalue()


def stored_paths(app):
    return sorted(path for path in Path(app.config["STORAGE_PATH"]).rglob("*") if path.is_file())


def stored_count(session):
    return session.scalar(select(func.count()).select_from(StoredFile))


def test_png_is_accepted_by_content(db, app):
    stored = save_upload(db.session, upload(png_bytes(), "saiga-range.png"), allowed_kinds={"png", "pdf"})

    assert stored.id is not None
    assert stored.content_type == "image/png"
    assert stored.original_name == "saiga-range.png"
    assert stored.size_bytes == len(png_bytes())
    assert stored_bytes(stored) == png_bytes()


def test_pdf_is_accepted_by_content_whatever_its_name(db):
    stored = save_upload(db.session, upload(MINIMAL_PDF, "budget.txt", "text/plain"), allowed_kinds={"pdf"})

    assert stored.content_type == "application/pdf"
    # The download name gets the extension of what the file really is.
    assert stored.original_name == "budget.pdf"


def test_sha256_of_the_content_is_recorded(db):
    stored = save_upload(db.session, upload(MINIMAL_PDF, "letter.pdf"), allowed_kinds={"pdf"})

    assert stored.sha256 == hashlib.sha256(MINIMAL_PDF).hexdigest()


def test_file_is_stored_under_a_random_name_outside_static(db, app):
    first = save_upload(db.session, upload(png_bytes(), "map.png"), allowed_kinds={"png"})
    second = save_upload(db.session, upload(png_bytes(), "map.png"), allowed_kinds={"png"})

    path = get_storage().local_path(first.key)
    assert first.key != second.key
    assert len(first.key) == 32
    assert path.name == first.key
    assert "map" not in str(path)
    assert path.is_relative_to(Path(app.config["STORAGE_PATH"]).resolve())
    assert not path.is_relative_to(Path(app.static_folder).resolve())
    assert path.read_bytes() == png_bytes()


def test_text_named_pdf_is_refused(db, app):
    before = stored_paths(app)

    with pytest.raises(DomainError) as refused:
        save_upload(
            db.session,
            upload(b"Totally a PDF, trust me.\n", "report.pdf", "application/pdf"),
            allowed_kinds={"pdf"},
        )

    assert str(refused.value) == (
        "The file “report.pdf” is plain text, which cannot be uploaded here. Allowed: PDF."
    )
    assert refused.value.field == "file"
    assert stored_paths(app) == before
    assert stored_count(db.session) == 0


def test_image_where_only_pdf_is_allowed_is_refused(db, app):
    with pytest.raises(DomainError, match=r"is a PNG image, .* Allowed: PDF"):
        save_upload(db.session, upload(png_bytes(), "scan.pdf"), allowed_kinds={"pdf"})


def test_empty_file_is_refused(db, app):
    before = stored_paths(app)

    with pytest.raises(DomainError, match=r"“empty\.pdf” is empty"):
        save_upload(db.session, upload(b"", "empty.pdf"), allowed_kinds={"pdf"})

    assert stored_paths(app) == before
    assert stored_count(db.session) == 0


def test_oversize_file_is_refused(db, app):
    before = stored_paths(app)
    big = MINIMAL_PDF + b"%" * 5000

    with pytest.raises(DomainError, match=r"larger than the limit of 4 KB"):
        save_upload(db.session, upload(big, "big.pdf"), allowed_kinds={"pdf"}, max_bytes=4096)

    assert stored_paths(app) == before
    assert stored_count(db.session) == 0


def test_upload_limit_defaults_to_max_content_length(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100)

    with pytest.raises(DomainError, match="larger than the limit of 100 bytes"):
        save_upload(db.session, upload(MINIMAL_PDF, "letter.pdf"), allowed_kinds={"pdf"})


def test_csv_is_accepted_when_allowed(db):
    content = b"region,hectares\nKZ-47,1200\nKZ-23,800\n"

    stored = save_upload(db.session, upload(content, "areas.csv"), allowed_kinds={"csv"})

    assert stored.content_type == "text/csv"


def test_html_named_csv_is_refused(db):
    with pytest.raises(DomainError, match="is an HTML or XML document"):
        save_upload(
            db.session, upload(b"<html><script>alert(1)</script></html>", "areas.csv"), allowed_kinds={"csv"}
        )


def test_word_document_is_recognised_by_its_parts(db):
    # The parts in an order filetype's quick signature check does not expect.
    docx = office_file(
        [
            ("docProps/app.xml", "<x/>"),
            ("customXml/item1.xml", "<x/>"),
            ("customXml/item2.xml", "<x/>"),
            ("customXml/item3.xml", "<x/>"),
            ("customXml/item4.xml", "<x/>"),
            ("[Content_Types].xml", "<Types/>"),
            ("word/document.xml", "<w:document/>"),
        ]
    )

    stored = save_upload(db.session, upload(docx, "workplan.docx"), allowed_kinds={"docx", "xlsx"})

    assert stored.content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_spreadsheet_is_recognised(db):
    xlsx = office_file([("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>")])

    stored = save_upload(db.session, upload(xlsx, "budget"), allowed_kinds={"xlsx"})

    assert stored.original_name == "budget.xlsx"


def test_plain_zip_is_refused(db):
    archive = office_file([("notes.txt", "hello")])

    with pytest.raises(DomainError, match="is a ZIP archive"):
        save_upload(db.session, upload(archive, "workplan.docx"), allowed_kinds={"docx"})


def test_uploader_is_recorded(db):
    user = factories.make_user()

    stored = save_upload(
        db.session, upload(png_bytes(), "photo.png"), allowed_kinds={"png"}, uploaded_by=user
    )

    assert stored.uploaded_by_id == user.id


def test_plain_stream_with_filename_is_accepted(db):
    stored = save_upload(db.session, io.BytesIO(MINIMAL_PDF), allowed_kinds={"pdf"}, filename="report.pdf")

    assert stored.original_name == "report.pdf"


def test_rolled_back_upload_leaves_no_file(db):
    stored = save_upload(db.session, upload(png_bytes(), "photo.png"), allowed_kinds={"png"})
    path = get_storage().local_path(stored.key)
    assert path.is_file()

    db.session.rollback()

    assert not path.exists()


def test_committed_upload_keeps_its_file(db):
    stored = save_upload(db.session, upload(png_bytes(), "photo.png"), allowed_kinds={"png"})
    key = stored.key

    db.session.commit()

    assert get_storage().exists(key)


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\aigerim\\Отчёт 2025.pdf", "Отчёт 2025.pdf"),
        ("report\x00.pdf", "report.pdf"),
        ('bad<>:"|?*name.pdf', "badname.pdf"),
        ("...", "file"),
        ("", "file"),
    ],
)
def test_file_names_are_cleaned(given, cleaned):
    assert clean_filename(given) == cleaned


def test_long_file_name_keeps_its_extension():
    assert clean_filename("a" * 300 + ".pdf") == "a" * 196 + ".pdf"


def test_storage_refuses_keys_that_are_not_random_names(tmp_path):
    storage = LocalStorage(tmp_path)

    with pytest.raises(ValueError):
        storage.local_path("../../etc/passwd")


def test_stored_file_is_served_as_an_attachment(db, app):
    stored = save_upload(db.session, upload(png_bytes(), "Карта участка.png"), allowed_kinds={"png"})

    with app.test_request_context():
        response = send_stored_file(stored)
        response.direct_passthrough = False
        try:
            body = response.get_data()
        finally:
            response.close()

    assert body == png_bytes()
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%D0%9A%D0%B0%D1%80%D1%82%D0%B0" in disposition
    assert "sandbox" in response.headers["Content-Security-Policy"]
