"""Compose answers from several cited sentences: synthesis questions, attributed claims, both sides of a
conflict. Every sentence of the answer carries the markers of the evidence it comes from; claims are
rendered as someone's ("According to X, ..."), never as fact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa_service.answering.conflicts import Conflict, Side
from qa_service.answering.extractive import with_markers
from qa_service.answering.policy import MAX_SYNTHESIS, NEAR_DUPLICATE, SYNTHESIS_POOL, SYNTHESIS_RATIO
from qa_service.answering.question import QuestionAnalysis
from qa_service.answering.untrusted import without_markers
from qa_service.domain import Evidence
from qa_service.text import STOPWORDS, mentions, stem_terms, words

_YES_NO = re.compile(r"^\s*(?:have|has|had|did|does|do|is|are|was|were|will|would|can|could)\b", re.I)
_ENDED = re.compile(r"[.!?][”\"’')\]]*\s*$")
_SPLIT = re.compile(
    r",?\s+and\s+(?=(?:what|how|why|who|whom|whose|where|when|which|did|does|do|is|are|was|were|has|have|had|can|could|"
    r"will|would)\b)",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Part:
    """One sentence of a composed answer, without markers, and the evidence it cites."""

    text: str
    evidence: tuple[Evidence, ...]


def is_synthesis_question(question: QuestionAnalysis) -> bool:
    """A compound question ("What did Russia promise, and what happened?") or a yes/no one: no single
    sentence answers it."""
    if question_parts(question):
        return True
    return question.answer_type == "other" and bool(_YES_NO.search(question.focus))


def question_parts(question: QuestionAnalysis) -> list[str]:
    """The sub-questions of a compound question, each answerable alone ("What did Russia promise Israel?",
    "what happened? (What did Russia promise Israel)"); empty when the question is not compound."""
    parts = [p.strip(" ,?") for p in _SPLIT.split(question.focus) if p.strip(" ,?")]
    if len(parts) < 2:
        return []
    # A short follow-on part ("did it work") is asked together with the first part, which it refers to.
    return [p + "?" if i == 0 or len(stem_terms(p)) >= 3 else f"{p}? ({parts[0]})" for i, p in enumerate(parts)]


def select_synthesis_evidence(
    question: QuestionAnalysis, evidence: list[Evidence], base: list[Evidence], parts: Sequence[list[Evidence]] = ()
) -> list[Evidence]:
    """The extractive choice, the best sentence for each sub-question (``parts``: their ranked evidence),
    then close-scoring sentences that add something; no near-duplicates, and no sentences that are
    themselves questions (a headline repeating the question answers nothing)."""
    usable = [e for e in evidence if not _is_question(e)]
    chosen = [e for e in base if not _is_question(e)] or usable[:1]
    if not usable:
        return base
    limit = max(MAX_SYNTHESIS, len(chosen) + len(parts))
    for ranked in parts:  # the best new sentence for each sub-question
        usable_part = [e for e in ranked if not _is_question(e)]
        for item in usable_part[:SYNTHESIS_POOL]:
            if item.score < SYNTHESIS_RATIO * usable_part[0].score:
                break
            if all(_key(item) != _key(c) and not _near_duplicate(item, c) for c in chosen):
                chosen.append(item)
                break
    best = usable[0].score
    for item in usable[:SYNTHESIS_POOL]:
        if len(chosen) >= limit or item.score < SYNTHESIS_RATIO * best:
            break
        if all(_key(item) != _key(c) and not _near_duplicate(item, c) for c in chosen):
            chosen.append(item)
    return _in_reading_order(chosen)


def compose_answer(
    question: QuestionAnalysis, lead: list[Evidence], conflicts: list[Conflict]
) -> tuple[str, list[Evidence]]:
    """The extractive answer: the ``lead`` sentences (the extractive or synthesis choice) in reading order,
    then each conflict's sides, attributed. Returns the text with markers and the evidence in marker order."""
    yes_no = bool(_YES_NO.search(question.focus))
    if conflicts and is_synthesis_question(question):  # the sides carry the answer; keep one or two others
        in_conflicts = {_key(e) for c in conflicts for e in c.evidence}
        best = sorted((e for e in lead if _key(e) not in in_conflicts), key=lambda e: -e.score)
        lead = best[: 1 if yes_no else 2]
    lead = _in_reading_order(lead)
    lead_parts = [Part(e.text, (e,)) for e in lead]
    conflict_parts = conflicts_parts(conflicts, {_key(e) for e in lead})
    # A yes/no question is answered first by "the sources disagree"; other questions by what was asked.
    return render(conflict_parts + lead_parts if yes_no and conflict_parts else lead_parts + conflict_parts)


def conflict_parts_of(
    conflict: Conflict, quoted: set[tuple[str, int]], *, opening: str = "Sources disagree: "
) -> list[Part]:
    """Each side in its speaker's name, the first prefixed ``opening``, the first opposing one "But"."""
    parts: list[Part] = []
    first_position = conflict.sides[0].position
    turned = False
    for side in conflict.sides:
        if _key(side.evidence[0]) in quoted:  # already quoted in full: only its support is still due
            parts.extend(Part(e.text, (e,)) for e in side.evidence[1:] if _key(e) not in quoted)
            quoted |= {_key(e) for e in side.evidence}
            continue
        prefix = ""
        if side.position != first_position and not turned:
            prefix, turned = "But ", True
        elif not parts:
            prefix = opening
        parts.append(Part(prefix + _lower_first(_side_sentence(side), bool(prefix)), side.evidence[:1]))
        parts.extend(Part(e.text, (e,)) for e in side.evidence[1:] if _key(e) not in quoted)
        quoted |= {_key(e) for e in side.evidence}
    return parts


def conflicts_parts(conflicts: list[Conflict], quoted: set[tuple[str, int]]) -> list[Part]:
    """The parts of every conflict; a later one opens "Sources also disagree:"."""
    parts: list[Part] = []
    for i, conflict in enumerate(conflicts):
        parts += conflict_parts_of(conflict, quoted, opening="Sources also disagree: " if i else "Sources disagree: ")
    return parts


def _side_sentence(side: Side) -> str:
    lead = side.evidence[0]
    statement = side.statement.strip().rstrip(".").strip()
    if side.speaker is None and side.position == "disputes":
        return f"The document itself disputes this: “{statement}”"
    if side.speaker is None:
        return lead.text  # an unnamed report says so itself ("reportedly")
    if lead.claim is not None and lead.claim.kind == "denial":
        return f"{side.speaker} denied that {_lower_first(statement, True)}"
    return f"According to {side.speaker}, {_lower_first(statement, True)}"


def attribute_sentence(sentence: str, cited: list[Evidence]) -> str:
    """A generated sentence that states a cited claim without its speaker gets "According to X, " in front
    (and an unattributed report gets "Reportedly, "), so a claim is never turned into a fact."""
    claims = [e.claim for e in cited if e.claim is not None and not (e.claim.kind == "dispute" and not e.claim.speaker)]
    if not claims:
        return sentence
    speaker = claims[0].speaker
    if speaker is None:
        hedge = claims[0].verb  # an unnamed report: "reportedly", "allegedly"
        if not hedge.endswith("ly") or hedge in sentence.lower():
            return sentence
        return f"{hedge.capitalize()}, {_lower_first(sentence, True)}"
    # The speaker's name, not a title or a place in the description: "The Russian ambassador said ..." does
    # not name Viktorov, "... Putin ..." does not name Putin's envoy.
    name = words(_speaker_name(speaker))
    if name and mentions(name[0], set(words(sentence))):
        return sentence
    return f"According to {speaker}, {_lower_first(sentence, True)}"


def _speaker_name(speaker: str) -> str:
    """The last capitalised word before any apposition: "Alexander Lavrentyev, Putin's envoy" -> "Lavrentyev"."""
    head = speaker.split(",")[0].split()
    capitalised = [w for w in head if w[:1].isupper()]
    return (capitalised or head)[-1]


def render(parts: list[Part]) -> tuple[str, list[Evidence]]:
    """Join parts with ``[n]`` markers numbered by first appearance; each evidence is cited once."""
    numbers: dict[tuple[str, int], int] = {}
    cited: list[Evidence] = []
    pieces = []
    for part in parts:
        for e in part.evidence:
            if _key(e) not in numbers:
                numbers[_key(e)] = len(cited) + 1
                cited.append(e)
        markers = tuple(numbers[_key(e)] for e in part.evidence)
        if _ENDED.search(part.text):
            pieces.append(with_markers(part.text, markers))
        else:  # a composed sentence: the markers, then its full stop
            pieces.append(f"{without_markers(part.text).rstrip()} {' '.join(f'[{n}]' for n in markers)}.")
    return " ".join(pieces), cited


def _lower_first(text: str, apply: bool) -> str:
    """Lower-case a sentence's first word when it is a common word ("The operation ..." -> "the operation")."""
    first = text.split(" ", 1)[0]
    if apply and first[:1].isupper() and first.lower() in STOPWORDS | {"the", "it", "a", "an", "they", "there"}:
        return text[:1].lower() + text[1:]
    return text


def _is_question(evidence: Evidence) -> bool:
    return evidence.text.rstrip().endswith("?")


def _near_duplicate(a: Evidence, b: Evidence) -> bool:
    sa, sb = set(stem_terms(a.text)), set(stem_terms(b.text))
    return bool(sa and sb) and len(sa & sb) / min(len(sa), len(sb)) >= NEAR_DUPLICATE


def _in_reading_order(evidence: list[Evidence]) -> list[Evidence]:
    """Sentences of one document in the document's order; documents in the order of their best sentence."""
    rank: dict[str, int] = {}
    for e in evidence:
        rank.setdefault(e.document_id, len(rank))
    return sorted(evidence, key=lambda e: (rank[e.document_id], e.start))


def _key(evidence: Evidence) -> tuple[str, int]:
    return (evidence.document_id, evidence.start)
