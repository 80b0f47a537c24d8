"""Attribution, conflicts and synthesis through real ingestion, a real embedded Chroma and real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from qa_service.answering.question import analyze_question
from qa_service.answering.synthesis import attribute_sentence, is_synthesis_question, question_parts
from qa_service.api.app import create_app
from qa_service.domain import Claim, Evidence
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.services import build_services
from tests.conftest import make_settings

WITHDRAWN = "Have Iranian forces withdrawn from the Israeli border in Syria?"


def _document_text(client: TestClient, citation: dict[str, Any]) -> str:
    response = client.get(f"/documents/{citation['document_id']}/text")
    assert response.status_code == 200
    return str(response.text)


def _side(body: dict[str, Any], speaker_part: str) -> dict[str, Any]:
    sides = [s for c in body["conflicts"] for s in c["sides"] if speaker_part in (s["speaker"] or "")]
    assert sides, f"no side by {speaker_part}: {body['conflicts']}"
    return dict(sides[0])


def test_withdrawal_question_attributes_the_claim_and_cites_both_sides(client: TestClient) -> None:
    body = client.post("/ask", json={"question": WITHDRAWN}).json()
    assert body["mode"] == "extractive" and not body["refused"]
    assert "According to Alexander Lavrentyev" in body["answer"]
    quotes = {c["index"]: c for c in body["citations"]}
    for citation in body["citations"]:
        assert _document_text(client, citation)[citation["start"] : citation["end"]] == citation["quote"]
    lavrentyev = _side(body, "Lavrentyev")
    assert lavrentyev["position"] == "affirms"
    assert "85km" in quotes[lavrentyev["citations"][0]]["quote"]
    assert f"[{lavrentyev['citations'][0]}]" in body["answer"]
    hezbollah = _side(body, "Safi al-Din")
    assert hezbollah["position"] == "denies"
    assert "had not left southern Syria" in quotes[hezbollah["citations"][0]]["quote"]
    cited_by_sides = [quotes[i]["quote"] for c in body["conflicts"] for s in c["sides"] for i in s["citations"]]
    assert any("Special Forces" in q for q in cited_by_sides)
    assert quotes[lavrentyev["citations"][0]]["speaker"].startswith("Alexander Lavrentyev")


def test_a_disputed_claim_is_answered_with_its_dispute(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "What did Lavrentyev tell Sputnik?"}).json()
    assert "Sputnik" in body["answer"]
    (conflict,) = body["conflicts"]
    disputer = [s for s in conflict["sides"] if s["speaker"] is None]
    assert disputer and disputer[0]["position"] == "disputes"
    assert "speaking the truth" in disputer[0]["statement"]
    assert "But the document itself disputes this" in body["answer"]


def test_plain_facts_have_no_conflicts(client: TestClient) -> None:
    questions = ("How many Druze civilians were killed in Sweida?", "When did Israel start operation Good Neighbor?")
    for question in questions:
        body = client.post("/ask", json={"question": question}).json()
        assert body["conflicts"] == [], question


def test_compound_question_gets_several_cited_sentences(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "What did Russia promise Israel, and what happened?"}).json()
    sentences = [s for s in body["answer"].split(". ") if s.strip()]
    assert len(sentences) >= 3 and all("[" in s for s in sentences)
    quotes = " ".join(c["quote"] for c in body["citations"])
    assert "promises Russian military police" in quotes
    assert len({c["start"] for c in body["citations"]}) == len(body["citations"])  # no sentence cited twice


def test_synthesis_questions_are_recognised() -> None:
    assert is_synthesis_question(analyze_question(WITHDRAWN))
    assert question_parts(analyze_question("What did Russia promise Israel, and what happened?")) == [
        "What did Russia promise Israel?",
        "what happened? (What did Russia promise Israel)",
    ]
    assert not is_synthesis_question(analyze_question("How many Druze civilians were killed in Sweida?"))


def test_generated_answer_gets_the_speaker_from_the_stored_claim(
    seeded_dir: Path, embedder: SentenceTransformerEmbedder
) -> None:
    # The (fake) model states Lavrentyev's claim as fact; the answer must attribute it, by construction.
    reply = "Iranian units pulled out 85km from the Israeli border [1]."
    question = "How far from the Israeli border did Putin's envoy say Iranian units had pulled out?"
    answer = _ask_generative(seeded_dir, embedder, reply, question).json()
    assert answer["mode"] == "generative", answer
    assert answer["answer"].startswith("According to Alexander Lavrentyev, Putin’s envoy in Syria, Iranian units")
    assert "85km" in answer["citations"][0]["quote"]
    assert answer["conflicts"]  # the other side comes from the stored claims, not from the model


def test_a_generated_answer_quoting_one_side_still_cites_every_side(
    seeded_dir: Path, embedder: SentenceTransformerEmbedder
) -> None:
    # The model quotes the document's own dispute (the lead of a side whose support comes after it): the
    # support must still be cited, and every conflict citation must point at a citation (this was a 500).
    quoted = "It appears that Russia lied, and Israel is now facing Iranian forces and their allies on two borders"
    question = "Did Iranian forces and their allies withdraw from the border with Israel?"
    reply = f"{quoted} [{_llm_evidence_number(seeded_dir, embedder, quoted, question)}]."
    response = _ask_generative(seeded_dir, embedder, reply, question)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "generative" and body["answer"].startswith("It appears that Russia lied"), body
    indexes = {c["index"] for c in body["citations"]}
    cited = [i for c in body["conflicts"] for s in c["sides"] for i in s["citations"]]
    assert cited and set(cited) <= indexes
    assert all(f"[{i}]" in body["answer"] for i in cited)
    assert any("speaking the truth" in body["citations"][i - 1]["quote"] for i in cited)


def test_attribution_needs_the_speakers_name_not_a_title() -> None:
    claim = Claim(0, 10, 0, 10, "Ambassador Anatoly Viktorov", "told")
    cited = [Evidence("d", "s", "c", 0, 10, "x" * 10, 1.0, claim=claim)]
    assert attribute_sentence("Viktorov said Russia cannot compel them.", cited) == (
        "Viktorov said Russia cannot compel them."
    )
    assert attribute_sentence("Russia cannot compel them.", cited) == (
        "According to Ambassador Anatoly Viktorov, Russia cannot compel them."
    )
    assert attribute_sentence("The ambassador said Russia cannot compel them.", cited).startswith(
        "According to Ambassador Anatoly Viktorov, the ambassador said"
    )
    hedged = [Evidence("d", "s", "c", 0, 10, "x" * 10, 1.0, claim=Claim(0, 10, 0, 10, None, "reportedly"))]
    assert attribute_sentence("Hezbollah played a key role.", hedged) == "Reportedly, Hezbollah played a key role."


def _llm_evidence_number(seeded_dir: Path, embedder: SentenceTransformerEmbedder, sentence: str, question: str) -> int:
    """The number the evidence holding ``sentence`` gets in the LLM's prompt (its rank among the evidence)."""
    from qa_service.answering.policy import EVIDENCE_FOR_LLM
    from qa_service.answering.question import analyze_question

    services = build_services(make_settings(seeded_dir, llm={"backend": "none"}), embedder=embedder)
    analysis = analyze_question(question)
    chunks = services.retriever.retrieve(analysis.focus, collection="default", top_k=services.settings.retrieval.top_k)
    evidence = services.answerer._ranker.rank(analysis, chunks, collection="default")[:EVIDENCE_FOR_LLM]
    return next(n for n, e in enumerate(evidence, 1) if e.text.startswith(sentence))


def _ask_generative(seeded_dir: Path, embedder: SentenceTransformerEmbedder, reply: str, question: str) -> Any:
    """/ask in generative mode over the seed, with the test LLM backend giving ``reply``."""
    settings = make_settings(seeded_dir, llm={"backend": "test", "test_reply": reply}, answer_mode="generative")
    with TestClient(create_app(settings, services=build_services(settings, embedder=embedder))) as llm_client:
        return llm_client.post("/ask", json={"question": question})
