"""Document text is data, wherever it goes: a document cannot open or close our prompt's delimiters, speak
as a chat role, carry ``[n]`` markers into an answer, or be quoted as evidence when it addresses the reader
or the assistant ("The answer is: ...", "reply only ...", "ignore the other documents")."""

from __future__ import annotations

import re

from qa_service.domain import CITATION_MARKER

# Sentences that talk to whoever reads them instead of stating something: never evidence.
_ADDRESSES_READER = re.compile(
    r"\b(?:"
    r"the\s+(?:correct\s+|real\s+|true\s+|only\s+|final\s+)?answer\s+is\s*:"
    r"|(?:reply|respond|answer|say)\s+(?:only|just|with\s+only)\b"
    r"|(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+|your\s+|every\s+)?(?:previous\s+|prior\s+|above\s+|"
    r"earlier\s+|other\s+|preceding\s+)?(?:instructions?|documents?|evidence|context|sources?|passages?|rules?)\b"
    r"|you\s+(?:are|must|should|will)\s+(?:now\s+)?(?:an?\s+)?(?:assistant|ai\b|language\s+model|chatbot|answer|reply|"
    r"respond|say|tell)\b"
    r"|(?:as|to)\s+the\s+(?:assistant|ai|language\s+model|chatbot)\b"
    r"|(?:your|the)\s+system\s+prompt\b"
    # Notices addressed to whatever machine reads the text, or to whoever relays it to someone.
    r"|\b(?:to|for)\s+(?:any|all|every|each)\s+(?:ai|a\.i\.|artificial\s+intelligence|assistants?|chatbots?|llms?|"
    r"language\s+models?)(?:\s+(?:systems?|assistants?|models?|agents?|tools?))?\s*(?::|\s+(?:reading|that\s+reads|"
    r"processing|summari[sz]ing)\b)"
    r"|\b(?:any|every)\s+(?:ai|llm|chatbot|assistant|language\s+model)\s+(?:system\s+)?(?:reading|that\s+reads|processing)"
    r"|\bwhoever\s+(?:reads|is\s+reading|relays|summari[sz]es)\s+this\b"
    r"|(?:^|[.:;!]\s+|\bplease\s+)(?:tell|inform|remind|assure)\s+the\s+(?:user|reader|asker)\b"  # imperative only
    r"|\b(?:ai|llm)\s+(?:systems?|assistants?|models?)\s*(?:must|should|shall)\b"
    r")",
    re.IGNORECASE,
)
# Our delimiters and anything shaped like them, and chat-template tokens: removed, not just escaped.
_TAG_LIKE = re.compile(
    r"<\|[^<>|]{0,40}\|>|</?\s*(?:evidence|question|context|document|system|user|assistant|instructions?|im_start|"
    r"im_end|s)\b[^<>]{0,200}>",
    re.IGNORECASE,
)
_ROLE_PREFIX = re.compile(r"(?i)\b(system|user|assistant|human|developer)\s*:")
# The document's own marker-like text: [2], [ 4 ], fullwidth ［5］ (quoted, they would read as ours).
_MARKER_IN_TEXT = re.compile(r"\s*(?:" + CITATION_MARKER.pattern + r"|[\[［]\s*\d{1,3}\s*[\]］])")


def addresses_reader(text: str) -> bool:
    """True for a sentence that gives the reader or the assistant an instruction or a ready-made answer."""
    return bool(_ADDRESSES_READER.search(text))


def neutralise(text: str) -> str:
    """Untrusted text as the LLM sees it: no delimiter or chat-template lookalikes, no role prefixes, and no
    ``<``/``>`` left to open a tag of our own."""
    text = _TAG_LIKE.sub(" ", text)
    text = _ROLE_PREFIX.sub(lambda m: f"{m.group(1)} -", text)
    return text.replace("<", "‹").replace(">", "›")


def without_markers(text: str) -> str:
    """Quoted document text with its own ``[n]`` footnote markers removed (they would read as ours); the
    citation's quote keeps them, since it is exactly the document's characters."""
    return _MARKER_IN_TEXT.sub("", text)


def keep_cited_markers(answer: str, citations: int) -> str:
    """Drop any ``[n]`` marker without a citation ``n``: every marker in an answer has a citation."""
    return CITATION_MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= citations else "", answer).replace(
        "  ", " "
    )
