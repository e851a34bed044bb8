"""The PDF helper: fund documents render, and nothing but static files and data: URLs is ever loaded."""

import base64
import hashlib
import re
import subprocess
import threading
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import urljoin

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader

from fundapp.core.pdf import (
    RefusedURL,
    StaticOnlyURLFetcher,
    pdf_sha256,
    render_pdf,
    render_pdf_document,
    safe_url_fetcher,
)
from fundapp.core.storage import StoredFile
from tests.core.sample_files import png_bytes

PROBE_TEMPLATES = Path(__file__).parent / "templates"
PASSWD_LINE = b"root:x:0:0"


def pdf_text(data):
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def pdf_streams(data):
    """Every stream of the PDF, inflated where it is compressed (embedded files are streams too)."""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            yield zlib.decompress(match.group(1))
        except zlib.error:
            yield match.group(1)


def count_images(data, tmp_path):
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, check=True
    ).stdout.decode()
    return len(listing.strip().splitlines()) - 2  # two header lines


def embedded_files(data, tmp_path):
    path = tmp_path / "attachments.pdf"
    path.write_bytes(data)
    listing = subprocess.run(
        ["pdfdetach", "-list", str(path)], capture_output=True, check=True
    ).stdout.decode()
    return int(listing.split()[0])


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield app


@pytest.fixture
def probe_templates(app_context, monkeypatch):
    """Let render_pdf find the probe templates of these tests next to the real ones."""
    loader = ChoiceLoader([FileSystemLoader(str(PROBE_TEMPLATES)), app_context.jinja_env.loader])
    monkeypatch.setattr(app_context.jinja_env, "loader", loader)
    return app_context


@pytest.fixture
def fetcher(app_context):
    return StaticOnlyURLFetcher(app_context.static_folder)


class RecordingHandler(BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):
        RecordingHandler.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"h1 { color: red; }")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    RecordingHandler.requests = []
    server = HTTPServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", RecordingHandler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_fund_document_has_fund_name_title_and_page_numbers(probe_templates):
    document = render_pdf_document(
        "pdf/probe_values.html", title="Grant agreement", reference="IBF-2026-0001", heading="Saiga", rows=[]
    )

    text = pdf_text(document.data)
    assert document.data.startswith(b"%PDF-")
    assert document.page_count == 1
    assert "International Biodiversity Fund of Kazakhstan" in text
    assert "Grant agreement" in text
    assert "IBF-2026-0001" in text
    # "1 of 1" comes from counters in static/css/pdf.css: the static stylesheet was loaded and applied.
    assert "Page 1 of 1" in text


def test_plain_values_are_printed_escaped(probe_templates):
    data = render_pdf(
        "pdf/probe_values.html",
        heading="Каспийский тюлень <b>seal</b>",
        rows=[{"name": "Ustyurt"}, {"name": "Altai"}],
    )

    text = pdf_text(data)
    assert "Каспийский тюлень <b>seal</b>" in text
    assert "Ustyurt" in text
    assert "Altai" in text


def test_file_urls_outside_static_are_not_loaded(probe_templates, tmp_path, caplog):
    assert PASSWD_LINE in Path("/etc/passwd").read_bytes()

    data = render_pdf("pdf/probe_file_urls.html")

    assert "Probe document" in pdf_text(data)
    assert PASSWD_LINE.decode() not in pdf_text(data)
    assert PASSWD_LINE not in data
    assert not any(PASSWD_LINE in stream for stream in pdf_streams(data))
    assert embedded_files(data, tmp_path) == 0
    assert count_images(data, tmp_path) == 0
    refusals = [record for record in caplog.records if "RefusedURL" in record.getMessage()]
    assert len(refusals) >= 5  # img, stylesheet, @import, attachment, ... each was asked for and refused


def test_remote_urls_are_never_requested(probe_templates, http_server, tmp_path):
    server, requests = http_server

    data = render_pdf("pdf/probe_remote_urls.html", server=server)

    assert "Remote probe" in pdf_text(data)
    assert requests == []
    assert embedded_files(data, tmp_path) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/style.css",
        "https://example.org/logo.png",
        "ftp://example.org/file.txt",
        "file:///etc/passwd",
        "file://otherhost/etc/passwd",
        "gopher://example.org/",
        "javascript:alert(1)",
    ],
)
def test_fetcher_refuses_urls_outside_the_static_folder(fetcher, url):
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)


def test_fetcher_does_not_contact_http_servers(fetcher, http_server):
    server, requests = http_server

    with pytest.raises(RefusedURL):
        fetcher.fetch(server + "/style.css")
    assert requests == []


@pytest.mark.parametrize(
    "relative", ["../__init__.py", "../../config.py", "css/../../__init__.py", "%2e%2e/__init__.py"]
)
def test_paths_escaping_the_static_folder_are_refused(fetcher, relative):
    url = urljoin(fetcher.base_url, relative)

    with pytest.raises(RefusedURL):
        fetcher.fetch(url)


def test_symlink_out_of_the_static_folder_is_refused(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not for print")
    (static / "style.css").write_text("h1 { color: green; }")
    (static / "link.css").symlink_to(secret)
    fetcher = StaticOnlyURLFetcher(static)

    assert fetcher.fetch(urljoin(fetcher.base_url, "style.css")).read() == b"h1 { color: green; }"
    with pytest.raises(RefusedURL):
        fetcher.fetch(urljoin(fetcher.base_url, "link.css"))


def test_static_files_and_data_urls_are_served(fetcher, app_context):
    stylesheet = fetcher.fetch(urljoin(fetcher.base_url, "css/pdf.css"))
    image = fetcher.fetch("data:image/png;base64," + base64.b64encode(png_bytes()).decode())

    try:
        assert stylesheet.content_type == "text/css"
        assert stylesheet.read() == (Path(app_context.static_folder) / "css" / "pdf.css").read_bytes()
        assert image.read() == png_bytes()
    finally:
        stylesheet.close()
        image.close()


def test_safe_url_fetcher_applies_the_same_rules(app_context):
    response = safe_url_fetcher("data:text/plain,hello")
    try:
        assert response.read() == b"hello"
    finally:
        response.close()
    with pytest.raises(RefusedURL):
        safe_url_fetcher("file:///etc/passwd")


def test_data_image_is_embedded_and_outside_file_image_is_not(probe_templates, tmp_path):
    outside = tmp_path / "outside.png"
    outside.write_bytes(png_bytes())
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()

    data = render_pdf("pdf/probe_images.html", data_url=data_url, outside_url=outside.as_uri())

    assert count_images(data, tmp_path) == 1


def test_orm_objects_in_the_context_are_refused(probe_templates):
    stored = StoredFile(original_name="map.png")

    with pytest.raises(TypeError, match="ORM object"):
        render_pdf("pdf/probe_values.html", heading=stored, rows=[])
    with pytest.raises(TypeError, match=r"rows\[0\]\['file'\]"):
        render_pdf("pdf/probe_values.html", heading="Files", rows=[{"name": "map", "file": stored}])


def test_templates_outside_the_pdf_folder_are_refused(probe_templates):
    with pytest.raises(ValueError, match="templates/pdf/"):
        render_pdf("base.html")


def test_rendering_needs_no_request(probe_templates):
    # A background job has an app context but no request; the fund's default language is used.
    data = render_pdf("pdf/probe_values.html", heading="Board pack", rows=[])

    assert "Page 1 of 1" in pdf_text(data)


def test_pdf_sha256_is_the_hex_digest():
    assert pdf_sha256(b"%PDF-1.7") == hashlib.sha256(b"%PDF-1.7").hexdigest()
