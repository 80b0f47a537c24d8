"""Man pages read from their roff source (issue 38): rendered by mandoc, a page keeps its sections as
headings, each option as a term with its description, paragraphs whole, and its NAME line as its title."""

from __future__ import annotations

import gzip
import itertools
import re
import statistics

import pytest
from fastapi.testclient import TestClient

from evals.training.documents import DOCUMENTS
from qa_service.domain import Document
from qa_service.errors import UnsupportedDocumentError
from qa_service.ingest.blocks import BlockIndex
from qa_service.ingest.pipeline import prepare_document
from tests.conftest import READER_KEY, WRITER_KEY, bearer, wait_for_states

W, R = bearer(WRITER_KEY), bearer(READER_KEY)
# Man pages make installs (the training corpus's packages): roff sources, gzipped as Debian ships them.
MAN_PAGES = [d for d in DOCUMENTS if d.kind == "man page" and d.path.name.endswith(".gz")]


def _assert_paragraphs_whole(document: Document, name: str) -> None:
    """A line of the source is never a paragraph of its own: paragraphs are whole, and a long paragraph that
    stops mid-sentence with the next one going on in lower case (a cut line) is rare."""
    prose = [document.text[b.start : b.end] for b in document.blocks if b.kind in ("paragraph", "description")]
    assert statistics.median(len(p.split()) for p in prose) >= 6, name
    cut = [
        (a[-40:], b[:30])
        for a, b in itertools.pairwise(prose)
        if len(a.split()) >= 6 and len(b.split()) >= 6 and not re.search(r"[.!?:;)\]\"]$", a) and b[:1].islower()
    ]
    assert len(cut) <= max(5, len(prose) // 10), (name, cut[:3])  # a cut source: most of them


def test_pages_of_several_packages_keep_their_structure() -> None:
    assert len({d.package for d in MAN_PAGES}) >= 5
    for page in MAN_PAGES:
        document = prepare_document(page.path.read_bytes(), page.path.name)
        name_line = document.text.split("\n\n")[2]  # the NAME section's line: "tar - an archiving utility"
        assert document.title == name_line.replace(" - ", " — ", 1)[:200], (document.title, name_line)
        name = name_line.partition(" - ")[0]  # every heading path starts with the page: "tar › DESCRIPTION"
        index = BlockIndex(document.text, document.blocks)
        assert all(index.path_at(b.start)[0] == name for b in document.blocks), page.name
        headings = {document.text[b.start : b.end] for b in document.blocks if b.kind == "heading"}
        assert {"NAME", "DESCRIPTION"} <= headings, (page.name, sorted(headings)[:10])
        _assert_paragraphs_whole(document, page.name)


def test_options_are_terms_with_their_descriptions() -> None:
    tar = next(d for d in MAN_PAGES if d.path.name == "tar.1.gz")
    document = prepare_document(tar.path.read_bytes(), "tar.1.gz")
    assert document.title == "tar — an archiving utility"
    terms = [document.text[b.start : b.end] for b in document.blocks if b.kind == "term"]
    assert "-c, --create" in terms
    at = next(i for i, b in enumerate(document.blocks) if document.text[b.start : b.end] == "-c, --create")
    following = document.blocks[at + 1]
    assert following.kind == "description"
    assert (
        BlockIndex(document.text, document.blocks).heading_path(following.start)
        == "tar › DESCRIPTION › Operation mode › -c, --create"
    )
    assert document.text[following.start : following.end].startswith("Create a new archive.")


def test_docbook_pages_tag_their_options_too() -> None:
    """apt-get(8) is written in DocBook: each command or option is a paragraph with its description indented
    under it (.PP, .RS), not a .TP; it is read as a term with its description all the same."""
    apt_get = next(d for d in MAN_PAGES if d.path.name == "apt-get.8.gz")
    document = prepare_document(apt_get.path.read_bytes(), "apt-get.8.gz")
    terms = [document.text[b.start : b.end] for b in document.blocks if b.kind == "term"]
    assert {"update", "install", "--no-install-recommends"} <= set(terms), terms[:20]
    at = document.text.index("--no-install-recommends")
    following = next(b for b in document.blocks if b.start > at)
    assert following.kind == "description"
    path = BlockIndex(document.text, document.blocks).heading_path(following.start)
    assert path == "apt-get › OPTIONS › --no-install-recommends"


def test_plain_and_gzipped_sources_are_the_same_page() -> None:
    tar = next(d for d in MAN_PAGES if d.path.name == "tar.1.gz")
    packed = tar.path.read_bytes()
    assert prepare_document(gzip.decompress(packed), "tar.1").text == prepare_document(packed, "tar.1.gz").text


def test_other_gzip_files_and_gzip_bombs_are_refused() -> None:
    with pytest.raises(UnsupportedDocumentError) as other:
        prepare_document(gzip.compress(b"just text"), "notes.txt.gz")
    assert other.value.code == "unsupported_type"
    with pytest.raises(UnsupportedDocumentError) as bomb:
        prepare_document(gzip.compress(b".TH X 1\n" + b"a" * 30_000_000), "x.1.gz")
    assert bomb.value.code == "document_too_large"


def test_a_man_page_upload_is_answered_from(secured: TestClient) -> None:
    tar = next(d for d in MAN_PAGES if d.path.name == "tar.1.gz")
    accepted = secured.post("/documents", files=[("files", ("tar.1.gz", tar.path.read_bytes()))], headers=W)
    assert accepted.status_code == 202, accepted.text
    (record,) = wait_for_states(secured, [accepted.json()["items"][0]["status_url"]], W)
    assert record["state"] == "ready" and record["title"] == "tar — an archiving utility"
    body = secured.post("/retrieve", json={"query": "create a new archive", "k": 3}, headers=R).json()
    assert any("Create a new archive" in item["text"] for item in body["items"])


def test_the_hyphen_man_writes_at_a_line_end_is_joined() -> None:
    """man(1) output breaks words with U+2010 ("unrespon‐" / "sive"), not with "-"."""
    text = "ClientAliveCountMax sets how long the server waits before it treats a client as unrespon\u2010\nsive.\n"
    assert "unresponsive" in prepare_document(text.encode(), "sshd_config.txt").text


def _as_man_prints_it(page_path: object) -> bytes:
    """The page as `man` prints it to a pipe: formatted text, bold and underline as overstrikes."""
    import subprocess
    from pathlib import Path

    source = gzip.decompress(Path(str(page_path)).read_bytes())
    return subprocess.run(["mandoc", "-Tutf8"], input=source, capture_output=True, check=True).stdout


def test_the_text_man_prints_keeps_the_same_structure() -> None:
    """`man sshd_config > sshd_config.txt` read as .txt: the NAME line as title, sections as headings,
    options as terms whose descriptions carry them in their heading path, and no sentence cut at a line end."""
    for page in MAN_PAGES:
        roff = prepare_document(page.path.read_bytes(), page.path.name)
        printed = _as_man_prints_it(page.path)
        document = prepare_document(printed, page.path.name.removesuffix(".gz") + ".txt")
        assert document.title == roff.title, (page.name, document.title)
        headings = {document.text[b.start : b.end] for b in document.blocks if b.kind == "heading"}
        assert {"NAME", "DESCRIPTION"} <= headings, (page.name, sorted(headings)[:10])
        index = BlockIndex(document.text, document.blocks)
        term = ""
        for block in document.blocks:  # each description's heading path ends with its option
            if block.kind == "term":
                term = " ".join(document.text[block.start : block.end].split())
            elif block.kind == "description":
                assert index.path_at(block.start)[-1][:40] == term[:40], (page.name, index.path_at(block.start))
                assert index.path_at(block.start)[0] == roff.title.partition(" — ")[0], page.name
        assert sum(b.kind == "term" for b in document.blocks) >= sum(b.kind == "term" for b in roff.blocks) * 0.7
        _assert_paragraphs_whole(document, page.name)
        assert "\u2010 " not in document.text and "\x08" not in document.text, page.name
