"""Documents built to make parsing slow or heavy: every text rule runs in time linear in the document, and an
upload is parsed in a child process under limits, so that no document stalls the service (issue 37)."""

from __future__ import annotations

import contextlib
import io
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa_service.api.app import create_app
from qa_service.embeddings import Embedder, SentenceTransformerEmbedder, Vectors
from qa_service.errors import UnsupportedDocumentError
from qa_service.ingest.formats.office import MAX_PARAGRAPHS
from qa_service.ingest.isolation import Cancelled, Isolated, ParseLimits
from qa_service.ingest.pipeline import EMBED_GROUP, prepare_document
from qa_service.services import build_services
from tests.conftest import WRITER_KEY, auth_settings, bearer, wait_for_states

W = bearer(WRITER_KEY)
SIZE = 120_000  # characters: a quadratic rule costs minutes here, a linear one a second at most


def _normal(size: int) -> str:
    """Ordinary prose: paragraphs of a few sentences under a heading now and then."""
    paragraph = (
        "The archive keeps one copy of every file it was given, together with its owner and its mode. "
        "Restoring a file writes it back where it was found, unless another directory is named. "
        "Each copy is checked against its stored digest before it is written back.\n\n"
    )
    parts: list[str] = []
    length = 0
    while length < size:
        parts.append(f"Section {len(parts)}\n\n" if len(parts) % 5 == 0 else paragraph)
        length += len(parts[-1])
    return "".join(parts)[:size]


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "a run of word characters": lambda n: "word" * (n // 4),
    "a run of digits": lambda n: "1" * n,
    "hyphenated pieces": lambda n: "ab-" * (n // 3),
    "a line of spaced words": lambda n: "a " * (n // 2),
    "lines ending in hyphens": lambda n: "ab-\n" * (n // 4),
    "many tiny paragraphs": lambda n: "a\n\n" * (n // 3),
    "tabs and blank lines": lambda n: "a\t \n" * (n // 4),
    "dots": lambda n: "." * (n - 1) + "a",
    "bracketed numbers": lambda n: "[1]" * (n // 3),
    "options": lambda n: "--a-b " * (n // 6),
}


def _parse_seconds(text: str, name: str, runs: int = 1) -> float:
    """CPU seconds of this process (other processes on the machine do not count), the least of ``runs``."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        with contextlib.suppress(UnsupportedDocumentError):  # some hold no text worth keeping: refused
            prepare_document(text.encode(), name)
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_text_rules_are_linear_on_adversarial_documents(suffix: str) -> None:
    """Each adversarial document parses within a bounded multiple of an ordinary document of its size, and
    four times the input costs about four times the time (a quadratic rule would cost sixteen)."""
    normal = _parse_seconds(_normal(SIZE), "normal" + suffix, runs=3)
    slow = {}
    for name, make in ADVERSARIAL.items():
        large = _parse_seconds(make(SIZE), "x" + suffix, runs=2)
        small = _parse_seconds(make(SIZE // 4), "x" + suffix, runs=3)
        slow[name] = (round(large / normal, 1), round(large / max(small, 1e-4), 1), large)
    assert all(ratio <= 40 for ratio, _, _ in slow.values()), slow
    # Growth where the time is long enough to measure (a quadratic rule: 16).
    assert all(growth <= 10 for _, growth, large in slow.values() if large >= 0.05), slow


def _docx(paragraphs: int, empty: int = 0) -> bytes:
    """A minimal Word document with this many one-number paragraphs and ``empty`` empty ones (written
    directly: python-docx would take minutes to build a large one)."""
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    # Each paragraph its own number: the archive compresses like a real document's (under the zip-bomb ratio).
    body = "".join(f"<w:p><w:r><w:t>{i * 7919 % 1_000_003}</w:t></w:r></w:p>" for i in range(paragraphs))
    body += "".join(f'<w:p w:rsidR="{i:08X}"/>' for i in range(empty))
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
        '+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": f'<?xml version="1.0"?><w:document {ns}><w:body>{body}</w:body></w:document>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("empty", [False, True])
def test_paragraph_bomb_fails_at_once_with_a_named_reason(empty: bool) -> None:
    bomb = _docx(10, empty=MAX_PARAGRAPHS) if empty else _docx(MAX_PARAGRAPHS + 1)
    started = time.perf_counter()
    with pytest.raises(UnsupportedDocumentError) as refused:
        prepare_document(bomb, "bomb.docx")
    assert refused.value.code == "too_many_paragraphs"
    assert time.perf_counter() - started < 5


def test_deep_nesting_and_oversized_csv_fields_fail_with_named_reasons() -> None:
    nested = b"<div>" * 20_000 + b"deep" + b"</div>" * 20_000
    with pytest.raises(UnsupportedDocumentError) as deep:
        prepare_document(nested, "deep.html")
    assert deep.value.code == "too_deeply_nested"
    wide = b"name,value\n" + b"x" * 200_000 + b",1\n"
    with pytest.raises(UnsupportedDocumentError) as field:
        prepare_document(wide, "wide.csv")
    assert field.value.code == "broken_document" and "field" in field.value.message


# --- the child process ------------------------------------------------------------------------------------


def spin(seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def hog(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def refuse() -> None:
    raise UnsupportedDocumentError("no text here", code="empty_document")


def test_the_child_enforces_time_memory_and_cancellation() -> None:
    isolated = Isolated(ParseLimits(seconds=5.0, memory_mb=1024))  # 5 s: room for a machine busy with other jobs
    try:
        assert isolated.run("quick", spin, 0.1) == "done"
        started = time.monotonic()
        with pytest.raises(UnsupportedDocumentError) as slow:
            isolated.run("slow.txt", spin, 60)
        assert slow.value.code == "too_complex" and time.monotonic() - started < 20
        with pytest.raises(UnsupportedDocumentError) as heavy:
            isolated.run("heavy.txt", hog, 2048)
        assert heavy.value.code == "too_complex"
        with pytest.raises(UnsupportedDocumentError) as refused:
            isolated.run("empty.txt", refuse)
        assert refused.value.code == "empty_document"
        asked = time.monotonic()
        with pytest.raises(Cancelled):
            isolated.run("deleted.txt", spin, 60, cancelled=lambda: time.monotonic() - asked > 0.5)
        assert isolated.run("after all that", spin, 0.1) == "done"  # a fresh child took over
    finally:
        isolated.close()


def test_an_upload_past_its_parse_limit_fails_named_and_the_queue_goes_on(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """Through the API, with a parse limit short enough for the test: a document that takes longer to parse
    ends failed as too_complex and its spooled bytes are dropped; /healthz answered at once throughout, and
    the next upload is ingested."""
    settings = auth_settings(tmp_path, ingest={"parse_timeout_s": 0.5})
    services = build_services(settings, embedder=embedder)
    with TestClient(create_app(settings, services=services)) as client:
        heavy = _docx(20, empty=MAX_PARAGRAPHS - 100)  # under the paragraph limit; over a second of parsing
        response = client.post("/documents", files=[("files", ("heavy.docx", heavy))], headers=W)
        assert response.status_code == 202
        status_url = response.json()["items"][0]["status_url"]
        slowest, deadline = 0.0, time.monotonic() + 60
        while time.monotonic() < deadline:
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
            if client.get(status_url, headers=W).json()["state"] in ("ready", "failed"):
                break
            time.sleep(0.2)  # under the key's rate limit
        (record,) = wait_for_states(client, [status_url], W)
        assert record["state"] == "failed" and record["error"].startswith("too_complex:"), record
        assert slowest < 1.0
        assert not list((tmp_path / "uploads" / "default").glob("*"))  # the spooled upload went with it
        after = client.post("/documents", files=[("files", ("ok.txt", b"The zorblax count was 12."))], headers=W)
        (done,) = wait_for_states(client, [after.json()["items"][0]["status_url"]], W)
        assert done["state"] == "ready", done["error"]


class CountingEmbedder(Embedder):
    """The real embedding model, counting the texts it embeds (how much work a deleted document still cost)."""

    def __init__(self, model: SentenceTransformerEmbedder) -> None:
        super().__init__()
        self._model = model
        self.dimension, self.name, self.embedded = model.dimension, model.name, 0

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        return self._model.embed_batch(texts)


def test_deleting_a_document_while_it_is_embedded_stops_the_work(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """DELETE during embedding: the worker stops at the next group of texts instead of embedding the rest of
    the document (some 6,500), writes nothing, and the next upload is ingested."""
    settings = auth_settings(tmp_path)
    counting = CountingEmbedder(embedder)
    with TestClient(create_app(settings, services=build_services(settings, embedder=counting))) as client:
        sentences = [f"Pump {i} moves {i % 97 + 3} litres a second through the {i % 13}th main." for i in range(6000)]
        big = "\n\n".join(" ".join(sentences[i : i + 6]) for i in range(0, len(sentences), 6)).encode()
        accepted = client.post("/documents", files=[("files", ("pumps.txt", big))], headers=W).json()["items"][0]
        deadline = time.monotonic() + 120
        while client.get(accepted["status_url"], headers=W).json()["embedded_chunks"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.delete(f"/documents/{accepted['id']}", headers=W).status_code == 204
        at_delete = counting.embedded
        after = client.post("/documents", files=[("files", ("ok.txt", b"The zorblax count was 12."))], headers=W)
        (done,) = wait_for_states(client, [after.json()["items"][0]["status_url"]], W)
        assert done["state"] == "ready"
        services = client.app.state.services  # type: ignore[attr-defined]
        assert [d.source for d in services.store.list_documents("default")] == ["ok.txt"]
        assert services.store.chunk_count("default") == 1
    # At most the group being embedded when the DELETE came and the next one (256 texts each), then ok.txt.
    assert counting.embedded - at_delete <= 2 * EMBED_GROUP + 10, (at_delete, counting.embedded)
