"""Attachments of a proposal: accepted by content, refused clearly otherwise, changed only while editable."""

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from fundapp.applications.models import AttachmentKind, ProposalAttachment, ProposalState
from fundapp.applications.submission import (
    AttachmentTooLarge,
    add_attachment,
    remove_attachment,
)
from fundapp.core.audit import AuditEvent
from fundapp.core.errors import DomainError
from fundapp.core.storage import StoredFile, detect_kind, stored_bytes
from tests.applications.factories import make_member_proposal, make_officer, make_outsider
from tests.core.sample_files import MINIMAL_PDF, png_bytes
from tests.factories import make_user

# -- sample files, built in code ------------------------------------------------------------------------


def zip_bytes(parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts:
            archive.writestr(name, content)
    return buffer.getvalue()


def xlsx_bytes():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Line", "Amount"])
    workbook.active.append(["Rangers", 6000000])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def docx_bytes():
    return zip_bytes([("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>")])


def opendocument_bytes(mimetype):
    # The mimetype part comes first and uncompressed, as the OpenDocument standard asks.
    return zip_bytes([("mimetype", mimetype), ("content.xml", "<office:document-content/>")])


def odt_bytes():
    return opendocument_bytes("application/vnd.oasis.opendocument.text")


def ods_bytes():
    return opendocument_bytes("application/vnd.oasis.opendocument.spreadsheet")


def jpeg_bytes():
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
    )


#: A Windows executable's first bytes (DOS header) and a Linux one's (ELF).
WINDOWS_EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
LINUX_EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200

ACCEPTED = {
    "pdf": (MINIMAL_PDF, "registration.pdf", "application/pdf"),
    "png": (png_bytes(), "site-map.png", "image/png"),
    "jpeg": (jpeg_bytes(), "seal.jpg", "image/jpeg"),
    "xlsx": (
        xlsx_bytes(),
        "budget.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "docx": (
        docx_bytes(),
        "letter.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "odt": (odt_bytes(), "letter.odt", "application/vnd.oasis.opendocument.text"),
    "ods": (ods_bytes(), "budget.ods", "application/vnd.oasis.opendocument.spreadsheet"),
}


def upload(data, filename, content_type="application/octet-stream"):
    """What a browser sends; the claimed type is deliberately unhelpful."""
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


def stored_paths(app):
    return sorted(path for path in Path(app.config["STORAGE_PATH"]).rglob("*") if path.is_file())


def stored_count(session):
    return session.scalar(select(func.count()).select_from(StoredFile))


@pytest.fixture
def editable(db):
    """A draft proposal and a member of its organisation."""
    return make_member_proposal(complete=False)


# -- accepted by content --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind_name", list(ACCEPTED))
def test_allowed_file_types_are_accepted_by_their_content(db, editable, kind_name):
    proposal, user = editable
    data, filename, content_type = ACCEPTED[kind_name]

    attachment = add_attachment(db.session, user, proposal, "other", upload(data, filename))

    assert attachment.id is not None
    assert attachment.proposal_id == proposal.id
    assert attachment.stored_file.content_type == content_type
    assert attachment.stored_file.original_name == filename
    assert stored_bytes(attachment.stored_file) == data


def test_file_type_is_read_from_the_content_not_the_name(db, editable):
    proposal, user = editable

    attachment = add_attachment(
        db.session, user, proposal, "map", upload(png_bytes(), "map.pdf", "application/pdf")
    )

    assert attachment.stored_file.content_type == "image/png"
    assert attachment.stored_file.original_name == "map.png"


@pytest.mark.parametrize(
    ("data", "kind"),
    [(odt_bytes(), "odt"), (ods_bytes(), "ods")],
)
def test_opendocument_files_are_recognised_by_their_mimetype_part(data, kind):
    detected, description = detect_kind(io.BytesIO(data))

    assert detected == kind
    assert "OpenDocument" in description


def test_file_is_stored_under_a_random_name(db, app, editable):
    proposal, user = editable

    attachment = add_attachment(
        db.session,
        user,
        proposal,
        "registration_certificate",
        upload(MINIMAL_PDF, "../../etc/Registration.pdf"),
    )

    stored = attachment.stored_file
    assert stored.original_name == "Registration.pdf"
    assert "Registration" not in stored.key
    assert any(path.name == stored.key for path in stored_paths(app))
    static = Path(app.static_folder).resolve()
    assert not any(path.resolve().is_relative_to(static) for path in stored_paths(app))


def test_attaching_a_file_is_audited(db, editable):
    proposal, user = editable

    attachment = add_attachment(
        db.session, user, proposal, "budget_workbook", upload(xlsx_bytes(), "budget.xlsx")
    )

    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "proposal.attachment_added")
        .order_by(AuditEvent.id.desc())
    )
    assert event.entity_id == str(proposal.id)
    assert event.after["kind"] == "budget_workbook"
    assert event.after["sha256"] == attachment.stored_file.sha256


# -- refused, with nothing stored -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (WINDOWS_EXECUTABLE, "registration.pdf"),
        (LINUX_EXECUTABLE, "budget.xlsx"),
        (b"<html><script>alert(1)</script></html>", "letter.pdf"),
        (zip_bytes([("payload.exe", "MZ")]), "letter.docx"),
        (b"Line;Amount\nRangers;6000000\n", "budget.xlsx"),
    ],
    ids=["windows-exe-as-pdf", "elf-as-xlsx", "html-as-pdf", "zip-as-docx", "csv-as-xlsx"],
)
def test_file_that_is_not_an_allowed_type_is_refused_and_nothing_is_stored(db, app, editable, data, filename):
    proposal, user = editable
    files_before, rows_before = stored_paths(app), stored_count(db.session)

    with pytest.raises(DomainError) as refused:
        add_attachment(db.session, user, proposal, "other", upload(data, filename))

    message = str(refused.value)
    assert filename in message
    assert "cannot be uploaded here" in message
    assert "Allowed: PDF" in message and "OpenDocument text (.odt)" in message
    assert refused.value.field == "file"
    assert stored_paths(app) == files_before
    assert stored_count(db.session) == rows_before
    assert proposal.attachments == []


def test_file_over_the_per_file_limit_is_refused_and_nothing_is_stored(db, app, editable, monkeypatch):
    proposal, user = editable
    monkeypatch.setitem(app.config, "PROPOSAL_ATTACHMENT_MAX_BYTES", 1000)
    files_before = stored_paths(app)

    with pytest.raises(AttachmentTooLarge) as refused:
        add_attachment(db.session, user, proposal, "other", upload(MINIMAL_PDF + b"%" * 2000, "big.pdf"))

    assert "larger than the limit of 1000 bytes" in str(refused.value)
    assert stored_paths(app) == files_before
    assert proposal.attachments == []


def test_file_at_the_per_file_limit_is_accepted(db, app, editable, monkeypatch):
    proposal, user = editable
    data = MINIMAL_PDF + b"%" * 100
    monkeypatch.setitem(app.config, "PROPOSAL_ATTACHMENT_MAX_BYTES", len(data))

    attachment = add_attachment(db.session, user, proposal, "other", upload(data, "exact.pdf"))

    assert attachment.stored_file.size_bytes == len(data)


def test_empty_file_is_refused(db, editable):
    proposal, user = editable

    with pytest.raises(DomainError, match="is empty"):
        add_attachment(db.session, user, proposal, "other", upload(b"", "empty.pdf"))


def test_unknown_document_kind_is_refused(db, editable):
    proposal, user = editable

    with pytest.raises(DomainError, match="Choose what kind of document") as refused:
        add_attachment(db.session, user, proposal, "passport_scan", upload(MINIMAL_PDF, "x.pdf"))

    assert refused.value.field == "kind"


@pytest.mark.parametrize("who", ["outsider", "officer", "colleague_elsewhere"])
def test_only_members_can_attach_files(db, app, editable, who):
    proposal, _user = editable
    person = {"outsider": make_outsider, "officer": make_officer, "colleague_elsewhere": make_user}[who]()
    files_before = stored_paths(app)

    with pytest.raises(DomainError, match="Only members of"):
        add_attachment(db.session, person, proposal, "other", upload(MINIMAL_PDF, "x.pdf"))

    assert stored_paths(app) == files_before


@pytest.mark.parametrize("state", [ProposalState.SUBMITTED, ProposalState.ELIGIBLE, ProposalState.WITHDRAWN])
def test_files_cannot_be_attached_once_the_proposal_is_frozen(db, app, state):
    proposal, user = make_member_proposal(state=state)
    files_before = stored_paths(app)

    with pytest.raises(DomainError, match="can no longer be changed"):
        add_attachment(db.session, user, proposal, "other", upload(MINIMAL_PDF, "late.pdf"))

    assert stored_paths(app) == files_before


def test_files_can_be_attached_when_more_information_is_requested(db):
    proposal, user = make_member_proposal(state=ProposalState.MORE_INFO_REQUESTED)

    attachment = add_attachment(
        db.session, user, proposal, "letter_of_support", upload(MINIMAL_PDF, "akimat.pdf")
    )

    assert attachment.kind == AttachmentKind.LETTER_OF_SUPPORT


# -- removing -------------------------------------------------------------------------------------------


def test_member_can_remove_an_attachment_while_editing(db, editable):
    proposal, user = editable
    attachment = add_attachment(db.session, user, proposal, "other", upload(MINIMAL_PDF, "draft.pdf"))
    attachment_id = attachment.id

    remove_attachment(db.session, user, proposal, attachment)
    db.session.flush()

    assert db.session.get(ProposalAttachment, attachment_id) is None
    assert proposal.attachments == []
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "proposal.attachment_removed")
        .order_by(AuditEvent.id.desc())
    )
    assert event.before["name"] == "draft.pdf"


def test_attachment_cannot_be_removed_after_submission(db, editable):
    proposal, user = editable
    attachment = add_attachment(db.session, user, proposal, "other", upload(MINIMAL_PDF, "kept.pdf"))
    proposal.state = ProposalState.SUBMITTED
    db.session.flush()

    with pytest.raises(DomainError, match="can no longer be changed"):
        remove_attachment(db.session, user, proposal, attachment)

    assert proposal.attachments == [attachment]


def test_outsider_cannot_remove_an_attachment(db, editable):
    proposal, user = editable
    attachment = add_attachment(db.session, user, proposal, "other", upload(MINIMAL_PDF, "mine.pdf"))

    with pytest.raises(DomainError, match="Only members of"):
        remove_attachment(db.session, make_outsider(), proposal, attachment)

    assert proposal.attachments == [attachment]


def test_attachment_of_another_proposal_cannot_be_removed_through_this_one(db, editable):
    proposal, user = editable
    other, other_user = make_member_proposal(complete=False)
    foreign = add_attachment(db.session, other_user, other, "other", upload(MINIMAL_PDF, "theirs.pdf"))

    with pytest.raises(DomainError, match="another proposal"):
        remove_attachment(db.session, user, proposal, foreign)

    assert other.attachments == [foreign]
