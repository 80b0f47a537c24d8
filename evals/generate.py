"""Draft eval cases from an indexed collection: one sentence = one gold evidence.

Sentences that hold a number, a date or a name become questions. Without an LLM the question is a
cloze ("Which number completes: ... ___ ...?"): stilted but checkable; with an LLM configured, the
LLM rewrites it as a natural question, and the draft keeps the cloze when the rewrite loses the
answer's context. Either way a person reviews the file before it becomes a dataset.
"""

from __future__ import annotations

import random
import re
from typing import Any

from qa_service.ingest.sentences import split_sentences
from qa_service.services import Services

_KINDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "date",
        re.compile(
            r"\b(?:(?:January|February|March|April|May|June|July|August|September|October|November|"
            r"December) \d{1,2}(?:, \d{4})?|(?:1[89]|20)\d\d)\b"
        ),
    ),
    ("number", re.compile(r"(?<![\w.])\d[\d,.]*(?:\s?(?:%|km|kilometers?|percent))?(?![\w.])")),
    ("name", re.compile(r"(?<=[a-z,;] )(?:[A-Z][\w’'-]+ ){1,3}[A-Z][\w’'-]+")),
]
_PROMPT = (
    "Rewrite this fill-in-the-blank sentence as one natural question whose answer is the blank.\n"
    "Sentence: {cloze}\nQuestion:"
)


def draft_cases(services: Services, *, collection: str, n: int, seed: int = 13) -> list[dict[str, Any]]:
    """Up to ``n`` draft cases spread over the collection's documents."""
    rng = random.Random(seed)
    store = services.store
    candidates: list[tuple[str, str, str, str]] = []  # (source, sentence, kind, answer)
    for info in store.list_documents(collection):
        text = store.get_document(collection, info.id).text
        for start, end in split_sentences(text):
            sentence = text[start:end]
            if not 8 <= len(sentence.split()) <= 60:
                continue
            for kind, pattern in _KINDS:
                match = pattern.search(sentence)
                if match:
                    candidates.append((info.source, sentence, kind, match.group(0).strip()))
                    break
    rng.shuffle(candidates)
    llm = services.answerer.llm
    cases = []
    for i, (source, sentence, kind, answer) in enumerate(candidates[:n], 1):
        cloze = sentence.replace(answer, "___", 1)
        question = f"Which {'name' if kind == 'name' else kind} completes: “{cloze}”?"
        if llm is not None:
            rewritten = llm.chat("", _PROMPT.format(cloze=cloze), max_tokens=48).strip().split("\n")[0]
            if rewritten.endswith("?") and answer.lower() not in rewritten.lower():
                question = rewritten
        cases.append({
            "id": f"{collection}-{i:03d}", "question": question, "category": "factual", "answerable": True,
            "gold_answers": [answer], "gold_evidence": [sentence], "must_not_contain": [],
            "collection": collection, "note": f"drafted from {source}; review before keeping",
        })  # fmt: skip
    return cases
