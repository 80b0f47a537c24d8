"""Signals that the evidence may not answer the question (never the LLM's say-so).

Each signal is a reason a careful reader would give for "the documents don't say": a name no passage
mentions, a number the passage lacks, the opposite of the question's premise. None decides alone: they are
inputs of the trained answerability model (``answerability.py``), which weighs them with the evidence
scores. The premise signals also mark a question whose premise the evidence contradicts, which is
answered with a correction instead of a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from qa_service.answering.extractive import best_sentences
from qa_service.answering.lexicon import NAMED_KINDS, OPPOSITES
from qa_service.answering.policy import (
    MIN_COUNTED_SIMILARITY,
    MIN_SEMANTIC,
    NAME_POOL,
    NEGATION_MIN_LEXICAL,
)
from qa_service.answering.question import QuestionAnalysis, holds_answer_type
from qa_service.domain import Evidence
from qa_service.text import STOPWORDS, mentions, normalize, numbers, stem, stem_terms, words

# Only types the detector recognises reliably decide a refusal; person/place are soft (score) signals.
ENFORCED_TYPES = frozenset({"number", "year", "date"})


@dataclass(frozen=True, slots=True)
class Context:
    question: QuestionAnalysis
    evidence: list[Evidence]  # ranked, non-empty
    chosen: list[Evidence]  # the best sentences, which an extractive answer quotes (unless a definition)
    topic_names: frozenset[str] = frozenset()  # names so common in the collection they name its topic
    term_shares: Mapping[str, float] = field(default_factory=dict)  # key term -> share of chunks holding it

    @property
    def window(self) -> str:
        return " ".join(e.text for e in self.chosen)


Check = Callable[[Context], str | None]


def unmentioned_names(ctx: Context) -> str | None:
    pool = set(words(" ".join(e.text for e in ctx.evidence[:NAME_POOL])))
    missing = sorted(n for n in ctx.question.names - ctx.topic_names if not mentions(n, pool))
    return f"the best passages never mention {', '.join(missing)}" if missing else None


def off_topic(ctx: Context) -> str | None:
    semantic = max(e.features.get("semantic", 0.0) for e in ctx.evidence[:NAME_POOL])
    return f"no passage is about the question (best similarity {semantic:.2f})" if semantic < MIN_SEMANTIC else None


_NAME_THEN_NOUN = re.compile(r"\b([A-Z][\w’'-]+)(?:['’]s)?\s+([a-z][\w-]+)")


def conflicting_names(ctx: Context) -> str | None:
    """The passage says "Druze civilians" where the question asks about "Israeli civilians"."""
    window_words = set(words(ctx.window))
    for match in _NAME_THEN_NOUN.finditer(ctx.question.focus):
        name = normalize(match.group(1))
        if name in STOPWORDS or mentions(name, window_words):
            continue
        noun = re.escape(match.group(2))
        for other in re.finditer(r"\b([A-Z][\w’'-]+)\s+" + noun + r"\b", ctx.window):
            if normalize(other.group(1)) not in STOPWORDS:
                return f"the passage is about {other.group(0)}, not {match.group(0)}"
    return None


def missing_numbers(ctx: Context) -> str | None:
    missing = ctx.question.numbers - numbers(ctx.window)
    return f"the best passage does not mention {', '.join(sorted(missing))}" if missing else None


def missing_answer_type(ctx: Context) -> str | None:
    question = ctx.question
    if question.counted is not None:
        if max(e.features.get("answer_type", 0.0) for e in ctx.chosen) < MIN_COUNTED_SIMILARITY:
            return f"no passage gives a number of {question.counted}"
        return None
    if question.answer_type in ENFORCED_TYPES and not holds_answer_type(question, ctx.window):
        return f"the best passage holds no {question.answer_type}, which the question asks for"
    return None


_CLAUSE_END = re.compile(r",|\b(?:that|which|who|whom|it|when|after|before|because|while)\b", re.I)


def opposite_premise(ctx: Context) -> str | None:
    """The question's main clause rests on a word whose opposite is what the passage says."""
    window = set(stem_terms(ctx.window))
    focus = ctx.question.focus
    head = " ".join(focus.split()[:3])
    cut = _CLAUSE_END.search(focus, len(head))
    for term in stem_terms(focus[: cut.start()] if cut else focus):
        if term in window:
            continue
        opposite = OPPOSITES.get(term, frozenset()) & window
        if opposite:
            return f"the documents say the opposite of the question's premise ({term} vs {sorted(opposite)[0]})"
    return None


_WHICH_NOUN = re.compile(r"\b(?i:which|what)\s+(?:[A-Z][\w-]*\s+)*([a-z]{3,})\b")
_CODE_LIKE = re.compile(r"[_./()'\"`<>=]")


def unnamed_answer(ctx: Context) -> str | None:
    """ "Which hospital ...?" when the passage mentions a hospital but never names it."""
    match = _WHICH_NOUN.search(ctx.question.focus)
    if match is None or match.group(1) not in NAMED_KINDS:
        return None
    noun = stem(match.group(1))
    raw = ctx.window.split()
    positions = [i for i, t in enumerate(raw) if words(t) and stem(words(t)[0]) == noun]
    if not positions:
        return None
    for i in positions:
        for j in range(max(0, i - 3), min(len(raw), i + 5)):
            token = raw[j].strip(".,;:!?\"'“”‘’()")
            if j == i or not token:
                continue
            is_new_name = (
                token[:1].isupper()
                and j > 0
                and not any(mentions(w, {q}) or mentions(q, {w}) for w in words(token) for q in ctx.question.names)
            )
            code_like = bool(_CODE_LIKE.search(token)) or raw[j][:1] in "'\"`‘“"
            if is_new_name or code_like or any(ch.isdigit() for ch in token):
                return None
    return f"the passage mentions a {match.group(1)} but does not name it"


def only_repeats_question(ctx: Context) -> str | None:
    if not set(stem_terms(ctx.window)) - set(ctx.question.key_terms):
        return "the best passage only repeats the question"
    return None


_NEGATION = re.compile(r"\b(?:not|no|never|cannot|neither|nor|without|none)\b|n['’]t\b", re.I)
_PRESUPPOSING = re.compile(r"^\s*(?:why|since|given\s+that|as|because|how\s+come)\b", re.I)


def negated_premise(ctx: Context) -> str | None:
    """ "Why does X do Y?" where the passage that holds X and Y says X does not (or the reverse)."""
    focus = ctx.question.focus
    if not _PRESUPPOSING.search(focus):
        return None
    close = [e for e in ctx.chosen if e.features.get("lexical", 0.0) >= NEGATION_MIN_LEXICAL]
    if not close:
        return None
    question_negated = bool(_NEGATION.search(focus))
    if any(bool(_NEGATION.search(e.text)) != question_negated for e in close):
        return "the passage states the question's premise with the opposite polarity"
    return None


SIGNALS: dict[str, Check] = {
    check.__name__: check
    for check in (
        unmentioned_names,
        off_topic,
        conflicting_names,
        missing_numbers,
        missing_answer_type,
        opposite_premise,
        negated_premise,
        unnamed_answer,
        only_repeats_question,
    )
}
# The signals that refused an answer on their own before the model (issue 12); their "or" is a feature too.
VETOES = frozenset(SIGNALS) - {"negated_premise"}
# The evidence holds the question's subject but says otherwise: a false premise, corrected when the model
# finds the evidence otherwise on the question.
PREMISE_SIGNALS = frozenset({"opposite_premise", "negated_premise", "missing_numbers", "conflicting_names"})
# The quote states the opposite of the premise (not merely lacks it).
CONTRADICTION_SIGNALS = frozenset({"opposite_premise", "negated_premise"})


def context(
    question: QuestionAnalysis,
    evidence: list[Evidence],
    *,
    topic_names: frozenset[str] = frozenset(),
    term_shares: Mapping[str, float] | None = None,
) -> Context:
    """The evidence as the signals and the model see it; ``evidence`` is ranked and non-empty."""
    chosen = best_sentences(question, evidence)
    return Context(question, evidence, chosen, topic_names, term_shares or {})
