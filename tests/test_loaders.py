"""Loaders: each format, encodings, and clear errors for files that are not documents."""

from __future__ import annotations

import io

import pytest
from fpdf import FPDF

from qa_service.errors import UnsupportedDocumentError
from qa_service.ingest.pipeline import prepare_document


def test_txt_utf8() -> None:
    doc = prepare_document(b"Title line\n\nThe bridge is 40 m long.", "a.txt")
    assert doc.text == "Title line\n\nThe bridge is 40 m long."
    assert doc.title == "Title line"


def test_cp1252_text_is_decoded_not_rejected() -> None:
    data = "Café “quoted” – naïve façade costs 5€.".encode("cp1252")
    doc = prepare_document(data, "legacy.txt")
    assert doc.text == "Café “quoted” – naïve façade costs 5€."


def test_binary_named_txt_is_refused_clearly() -> None:
    data = bytes(range(256)) * 20
    with pytest.raises(UnsupportedDocumentError, match="binary") as info:
        prepare_document(data, "photo.txt")
    assert info.value.code == "binary_data"


def test_markdown_markup_is_stripped() -> None:
    doc = prepare_document(b"# Guide\n\nSee [the docs](http://x/y) for **bold** text.", "g.md")
    assert doc.text == "Guide\n\nSee the docs for bold text."
    assert doc.media_type == "text/markdown"


def test_html_drops_scripts_nav_and_keeps_paragraphs() -> None:
    html = b"""<html><head><title>Page</title><style>p{}</style></head><body>
    <nav>Home | About</nav><script>alert('x')</script>
    <article><h1>Heading</h1><p>First paragraph here.</p><p>Second <b>bold</b> one.</p></article>
    <footer>Copyright</footer></body></html>"""
    doc = prepare_document(html, "p.html")
    assert doc.title == "Page"
    assert doc.text == "Heading\n\nFirst paragraph here.\n\nSecond bold one."


def _pdf(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def test_pdf_text_layer_and_page_numbers() -> None:
    data = _pdf(["The first page talks about apples.", "The second page talks about pears."])
    doc = prepare_document(data, "report.pdf")
    assert "apples" in doc.text and "pears" in doc.text
    assert doc.page_at(doc.text.index("apples")) == 1
    assert doc.page_at(doc.text.index("pears")) == 2


def test_broken_pdf_gets_a_clear_error() -> None:
    with pytest.raises(UnsupportedDocumentError, match="not a readable PDF"):
        prepare_document(b"%PDF-1.7\n garbage without objects", "broken.pdf")


def test_pdf_without_text_layer_is_refused() -> None:
    pdf = FPDF()
    pdf.add_page()
    with pytest.raises(UnsupportedDocumentError, match="no text layer"):
        prepare_document(bytes(pdf.output()), "scan.pdf")


def test_unsupported_suffix() -> None:
    with pytest.raises(UnsupportedDocumentError, match="unsupported file type"):
        prepare_document(io.BytesIO(b"PK").getvalue(), "archive.zip")


def test_empty_file() -> None:
    with pytest.raises(UnsupportedDocumentError, match="empty"):
        prepare_document(b"   \n", "empty.txt")


def test_html_site_furniture_by_role_and_class_is_dropped() -> None:
    html = b"""<html><body><div role="navigation">index | modules | next</div>
    <div class="sphinxsidebar">Previous topic</div>
    <div class="body"><h1>bisect<a class="headerlink" href="#x">\xc2\xb6</a></h1>
    <p>Locate the insertion
    point for x.</p><pre>def f():
        return 1</pre></div><div class="footer">Last updated on Monday.</div></body></html>"""
    doc = prepare_document(html, "bisect.html")
    assert doc.text == "bisect\n\nLocate the insertion point for x.\n\ndef f():\n        return 1"


def test_furniture_words_in_the_body_are_content() -> None:
    body = "\n\n".join(
        [
            "Membership test operations check whether a value is in a container, and they are fast.",
            "The IMAP4 class selects the INBOX mailbox by default when no name is given to it.",
            "A Spinbox widget lets a user pick a number from a fixed range of values with arrows.",
            "Cookie handling for HTTP clients is done by the cookiejar module in the standard library.",
        ]
    )
    assert prepare_document(body.encode(), "manual.txt").text == body
