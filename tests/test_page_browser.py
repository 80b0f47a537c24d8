"""The chat page in a real headless Chromium (Debian's package) against the real app on a loopback port."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from qa_service.api.app import create_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.services import build_services
from tests.conftest import ROOT, SEEDS, make_settings

playwright_api = pytest.importorskip("playwright.sync_api")
ARTIFACTS = ROOT / "test-artifacts"
XSS_DOC = (
    "The Zorblax festival is held every spring in Quillton.\n\n"
    'Visitors once saw a banner reading <img src=x onerror="window.__xss=1"> at the Zorblax festival gate.\n\n'
    "The Zorblax festival has 300 dancers <script>window.__xss=2</script> on its main stage."
)


OPS_DOC = (
    "# Backups\n\nThe nightly backup of the Velmora cluster starts at 02:40 and is kept for 19 days.\n\n"
    "# Restores\n\nA restore from the Velmora backup is requested through the storage team's queue.\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("page")
    docs = tmp_path_factory.mktemp("page-docs")
    (docs / "zorblax.txt").write_text(XSS_DOC, encoding="utf-8")
    settings = make_settings(data_dir, llm={"backend": "none"})
    services = build_services(settings, embedder=embedder)
    services.ingestor.ingest_paths([SEEDS, docs / "zorblax.txt"], collection="default")
    (docs / "ops").mkdir()
    (docs / "ops" / "backups.md").write_text(OPS_DOC, encoding="utf-8")
    services.ingestor.ingest_paths([docs / "ops" / "backups.md"], collection="ops")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, services=services), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is required for the page tests: apt-get install chromium (make test does)"
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture()
def page(browser: Any, server_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    _watch(page, errors)
    page.qa_errors = errors  # a test that provokes an HTTP error on purpose removes its own console line
    page.goto(server_url + "/")
    yield page
    context.close()
    assert errors == []  # no script error, no dialog, and an empty console (no 404 for a favicon either)


def _watch(page: Any, errors: list[str]) -> None:
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog opened: {dialog.message}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type in ("error", "warning") else None,
    )


def _ask(page: Any, question: str) -> Any:
    count = page.locator("#log > li").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    turn = page.locator("#log > li").nth(count)
    turn.locator(".answer[aria-busy=false]").wait_for(timeout=30_000)
    return turn


def _saved_threads(page: Any) -> list[dict[str, Any]]:
    return list(json.loads(page.evaluate("localStorage.getItem('qa-service.threads.v1')") or "[]"))


def _saved_turns(page: Any) -> list[dict[str, Any]]:
    """The turns of the open conversation, as the page keeps them."""
    current = page.evaluate("localStorage.getItem('qa-service.thread.v1')")
    return next((t["turns"] for t in _saved_threads(page) if t["id"] == current), [])


def test_ask_stream_click_citation_and_see_the_exact_span(page: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    turn = _ask(page, "How many Druze civilians were killed in Sweida?")
    assert turn.get_attribute("data-state") == "done"
    assert "215" in turn.locator(".text").inner_text()
    short = turn.locator(".short-answer")  # a hint, not a verdict: labelled so, in normal weight
    assert short.inner_text().startswith("Likely: ") and "215" in short.inner_text()
    assert int(short.locator(".phrase").evaluate("el => getComputedStyle(el).fontWeight")) < 600
    citation = _saved_turns(page)[-1]["response"]["citations"][0]
    turn.locator("button.marker[data-index='1']").click()
    mark = page.locator("#source-text mark")
    mark.wait_for()
    assert mark.inner_text() == citation["quote"]
    assert citation["source"] in page.locator("#source-meta").inner_text()
    assert citation["title"] and citation["title"] in page.locator("#source-title").inner_text()
    for question in ("Who is Putin's envoy in Syria?", "When did Israel start operation Good Neighbor?"):
        _ask(page, question)  # more samples for the time-to-first-token record (not asserted: benchmarks)
    timings = page.evaluate("window.__qaTimings")
    assert all(t["firstToken"] is not None for t in timings)  # tokens were streamed before the final event
    (ARTIFACTS / "page-timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    page.screenshot(path=str(ARTIFACTS / "page-desktop.png"), full_page=True)


def test_follow_up_shows_the_rewritten_question(page: Any) -> None:
    _ask(page, "Who is the Russian ambassador in Israel?")
    turn = _ask(page, "and who contradicted him?")
    rewritten = turn.locator(".rewritten")
    assert rewritten.is_visible()
    assert "Viktorov" in rewritten.inner_text()
    assert "contradicted Viktorov" in turn.locator(".text").inner_text()


def test_refusal_looks_different(page: Any) -> None:
    turn = _ask(page, "What is the boiling point of water?")
    assert turn.get_attribute("data-state") == "refused"
    assert "refused" in (turn.locator(".answer").get_attribute("class") or "")
    assert turn.locator(".sources").is_hidden()


def test_document_text_renders_inert(page: Any) -> None:
    turn = _ask(page, "What did the banner at the Zorblax festival gate read?")
    text = turn.locator(".text").inner_text()
    assert "<img src=x" in text
    turn.locator("button.marker").first.click()
    page.locator("#source-text mark").wait_for()
    assert "<script>window.__xss=2</script>" in page.locator("#source-text").inner_text()
    assert page.locator("#log img, #source-text img, #log script, #source-text script").count() == 0
    assert page.evaluate("window.__xss") is None


def test_history_survives_reload_and_can_be_cleared(page: Any) -> None:
    _ask(page, "Who is Putin's envoy in Syria?")
    page.reload()
    page.locator("#log > li .answer[aria-busy=false]").first.wait_for(timeout=10_000)
    assert "Lavrentyev" in page.locator("#log").inner_text()
    page.click("#new-chat")
    assert page.locator("#log > li").count() == 0
    page.reload()
    assert page.locator("#log > li").count() == 0


def test_keyboard_only_and_errors_with_retry(page: Any) -> None:
    page.click("#new-chat")
    page.focus("#question")
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    assert page.input_value("#question") == "first line\nsecond line"
    page.fill("#question", "")
    page.route(
        "**/ask",
        lambda route: route.fulfill(
            status=429,
            content_type="application/json",
            body='{"error": {"code": "rate_limited", "message": "slow down"}}',
        ),
    )
    turn = _ask(page, "How many Druze civilians were killed in Sweida?")
    assert turn.get_attribute("data-state") == "error"
    assert "Too many questions" in turn.locator(".error-text").inner_text()
    page.unroute("**/ask")
    turn.locator(".retry").click()
    retried = page.locator("#log > li").last
    retried.locator(".answer[aria-busy=false]").wait_for()
    assert "215" in retried.locator(".text").inner_text()
    expected = [e for e in page.qa_errors if "status of 429" in e]  # the browser logs the faked 429
    assert len(expected) == 1
    page.qa_errors.remove(expected[0])


def test_phone_width_and_documents_panel(browser: Any, server_url: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 812}, color_scheme="dark")
    page = context.new_page()
    page.goto(server_url + "/")
    _ask(page, "How many Druze civilians were killed in Sweida?")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "page-phone.png"), full_page=True)
    page.click("#docs-toggle")
    page.locator("#docs-list li").first.wait_for()
    listing = page.locator("#docs-list").inner_text()
    assert "chunks" in listing and "zorblax" in listing.lower()
    assert page.locator("#upload-form").is_visible()  # POST /documents exists: the upload control shows
    assert "man pages" in page.locator("#upload-label").inner_text()  # named from the server's table
    context.close()


def test_page_assets_are_local(server_url: str) -> None:
    html = Path(__file__).resolve().parent.parent.joinpath("qa_service/web/index.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html


def test_conflicts_show_each_side_with_its_citations(page: Any) -> None:
    turn = _ask(page, "Have Iranian forces withdrawn from the Israeli border in Syria?")
    box = turn.locator(".conflicts .conflict").first
    box.wait_for()
    assert "Sources disagree" in box.locator(".conflict-title").inner_text()
    lavrentyev = box.locator("li.side", has_text="Lavrentyev").first
    assert "says yes" in lavrentyev.inner_text()
    assert "says no" in box.locator("li.side", has_text="Safi al-Din").first.inner_text()
    lavrentyev.locator("button.marker").first.click()
    mark = page.locator("#source-text mark")
    mark.wait_for()
    assert "85km" in mark.inner_text()
    # Document text is inserted as text: the statement element holds no markup of its own.
    assert box.locator("q.statement").first.evaluate("el => el.children.length") == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-conflicts.png"), full_page=True)


def _upload(page: Any, path: Path, text: str) -> None:
    """Write a one-line document and upload it through the Documents panel."""
    path.write_text(text + "\n", encoding="utf-8")
    page.click("#docs-toggle")
    page.set_input_files("#upload-file", str(path))
    page.locator("#upload-form button[type=submit]").click()


def test_upload_from_the_page_shows_progress_until_ready(page: Any, tmp_path: Path) -> None:
    founded = "The Quentaro guild of lamp makers was founded by Mara Velt in 1812."
    _upload(page, tmp_path / "quentaro-guild.txt", founded)
    page.locator("#upload-status", has_text="Uploaded").wait_for()  # (the page's CSP forbids eval'd waits)
    ready = page.locator("#docs-list li[data-state=ready]", has_text="Quentaro guild")
    ready.wait_for(timeout=60_000)  # the list refreshes itself while the document is ingested
    answer = _ask(page, "Who founded the Quentaro guild?")
    assert "Mara Velt" in answer.locator(".text").inner_text()


@pytest.fixture(scope="module")
def manuals_url(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[str]:
    """Two manuals that both answer the same question (tests/test_scoped_questions.py)."""
    from tests.servers import serving_in_thread
    from tests.test_scoped_questions import ALPHA, BETA

    docs = tmp_path_factory.mktemp("manuals")
    (docs / "ops").mkdir()
    (docs / "ops" / "alpha_operations-manual.md").write_text(ALPHA, encoding="utf-8")
    (docs / "ops" / "beta_operations-manual.txt").write_text(BETA, encoding="utf-8")
    settings = make_settings(tmp_path_factory.mktemp("manuals-data"), llm={"backend": "none"})
    services = build_services(settings, embedder=embedder)
    services.ingestor.ingest_paths([docs], collection="default")
    with serving_in_thread(create_app(settings, services=services)) as url:
        yield url


def test_a_question_pinned_to_one_document_cites_only_it(browser: Any, manuals_url: str) -> None:
    from tests.test_scoped_questions import QUESTION

    context = browser.new_context(viewport={"width": 1280, "height": 700})
    page = context.new_page()
    errors: list[str] = []
    _watch(page, errors)
    page.goto(manuals_url + "/")
    unpinned = _ask(page, QUESTION)
    assert {c["source"] for c in _saved_turns(page)[-1]["response"]["citations"]} == {"alpha_operations-manual.md"}
    page.click("#docs-toggle")
    page.locator("#docs-list label", has_text="Beta operations manual").locator("input.pin").check()
    assert "Beta operations manual" in page.locator("#pinned").inner_text()
    turn = _ask(page, QUESTION)
    citations = _saved_turns(page)[-1]["response"]["citations"]
    assert citations and {c["source"] for c in citations} == {"beta_operations-manual.txt"}
    source = turn.locator(".sources button").first
    assert source.inner_text() == "Beta operations manual"  # the title, not offsets
    assert (
        source.get_attribute("title")
        == f"beta_operations-manual.txt, characters {citations[0]['start']}–{citations[0]['end']}"
    )
    page.click("#pinned-clear")
    assert page.locator("#pinned").is_hidden()

    turn.locator("button.marker[data-index='1']").click()
    page.locator("#source-text mark").wait_for()
    assert page.locator("#source-meta wbr").count() >= 2  # breaks only after "_", "-" or "."
    assert page.evaluate("getComputedStyle(document.querySelector('#source-title')).overflowWrap") == "normal"
    for _ in range(3):
        _ask(page, QUESTION)  # a log longer than the window
    page.mouse.wheel(0, 5000)
    page.wait_for_timeout(200)
    assert page.evaluate("window.scrollY") > 0 and page.locator(".bar").bounding_box()["y"] == 0  # still on top
    assert unpinned.is_visible() is not None
    context.close()
    assert errors == []


def test_collection_from_the_address_is_asked_listed_and_remembered(page: Any, server_url: str) -> None:
    page.goto(server_url + "/?collection=ops")
    picker = page.locator("#collection")
    picker.locator("option[value=ops]").wait_for(state="attached")
    assert picker.input_value() == "ops"
    assert {"(default)", "default", "ops"} <= set(picker.locator("option").all_inner_texts())
    turn = _ask(page, "When does the nightly backup of the Velmora cluster start?")
    assert "02:40" in turn.locator(".text").inner_text()
    page.click("#docs-toggle")
    page.locator("#docs-list li[data-state=ready]").first.wait_for()
    assert "Backups" in page.locator("#docs-list").inner_text()
    assert "zorblax" not in page.locator("#docs-list").inner_text().lower()
    page.goto(server_url + "/")  # no ?collection=: the one chosen last, remembered
    picker.locator("option[value=ops]").wait_for(state="attached")
    assert picker.input_value() == "ops" and "collection=ops" in page.url
    picker.select_option("default")
    assert "collection=default" in page.url
    assert page.locator("#log > li").count() == 0  # another collection: a new conversation
    turn = _ask(page, "How many Druze civilians were killed in Sweida?")
    assert "215" in turn.locator(".text").inner_text()


def test_conversations_are_kept_and_reopened(page: Any) -> None:
    page.click("#new-chat")
    _ask(page, "Who is Putin's envoy in Syria?")
    page.click("#new-chat")
    _ask(page, "How many Druze civilians were killed in Sweida?")
    page.reload()
    page.click("#threads-toggle")
    listing = page.locator("#threads-list")
    first = listing.locator("li", has_text="Putin's envoy")
    first.wait_for()
    assert listing.locator("li", has_text="Druze civilians").count() == 1
    first.locator("button.open-thread").click()
    assert page.locator("#threads-panel").is_hidden()
    assert page.locator("#log > li").count() == 1
    assert "Lavrentyev" in page.locator("#log").inner_text()
    turn = _ask(page, "and who contradicted him?")  # the reopened conversation is the follow-up's history
    assert "Lavrentyev" in turn.locator(".rewritten").inner_text()
    page.click("#threads-toggle")
    listing.locator("li", has_text="Druze civilians").locator("button.delete-thread").click()
    assert listing.locator("li", has_text="Druze civilians").count() == 0
    page.reload()
    page.click("#threads-toggle")
    assert listing.locator("li", has_text="Druze civilians").count() == 0


def test_a_document_is_reindexed_and_deleted_from_the_page(page: Any, tmp_path: Path) -> None:
    _upload(page, tmp_path / "orvane-ferry.txt", "The Orvane ferry leaves the north pier every 35 minutes.")
    row = page.locator("#docs-list li[data-state=ready]", has_text="Orvane ferry")
    row.wait_for(timeout=60_000)
    row.locator("button.reindex").click()
    page.locator("#docs-list .doc-status", has_text="Re-indexing").wait_for(state="detached")  # listed again
    page.locator("#docs-list li[data-state=ready]", has_text="Orvane ferry").wait_for(timeout=60_000)
    answer = _ask(page, "How often does the Orvane ferry leave the north pier?")
    assert "35 minutes" in answer.locator(".text").inner_text()
    row = page.locator("#docs-list li", has_text="Orvane ferry")
    row.locator("button.delete").click()
    assert row.locator("button.delete").inner_text() == "Delete for good?"  # asked once more, in the button
    row.locator("button.delete").click()
    page.locator("#docs-list li", has_text="Orvane ferry").wait_for(state="detached")
    turn = _ask(page, "How often does the Orvane ferry leave the north pier?")
    assert "35 minutes" not in turn.locator(".text").inner_text()


def test_feedback_is_stored_with_the_answer_and_its_citations(page: Any, server_url: str) -> None:
    import httpx

    turn = _ask(page, "Who is Putin's envoy in Syria?")
    turn.locator("button.rate[data-rating=down]").click()
    turn.locator(".feedback-status", has_text="Thanks").wait_for()
    assert turn.locator("button.rate[data-rating=down]").get_attribute("aria-pressed") == "true"
    exported = httpx.get(server_url + "/feedback", timeout=10)
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in exported.text.splitlines()]
    mine = [r for r in records if r["question"] == "Who is Putin's envoy in Syria?" and r["rating"] == "down"]
    assert mine and mine[-1]["citations"] and "Lavrentyev" in mine[-1]["answer"]
    cited = mine[-1]["citations"][0]
    text = httpx.get(f"{server_url}/documents/{cited['document_id']}/text", timeout=10).text
    assert cited["quote"] and text[cited["start"] : cited["end"]] == cited["quote"]
