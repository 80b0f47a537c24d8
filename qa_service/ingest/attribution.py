"""Find reported claims in a document's cleaned text: who says what, as character spans.

Rules, not a statistical parser (no trustworthy English pipeline ships on PyPI with its weights): a
sentence reports a claim when it has a reporting verb ("said", "claimed", "told", "denied", ...) whose
subject names a speaker, an "according to X" clause, or a hedge ("reportedly"); it disputes a claim when
it says someone "wasn't speaking the truth", "lied" or "contradicted" someone. Measured on the
annotated sentences in ``evals/datasets/claims_annotated.jsonl`` (tests/test_attribution.py).
"""

from __future__ import annotations

import re

from qa_service.domain import Claim, ClaimKind
from qa_service.ingest.sentences import split_sentences

_VERBS = (
    "said|says|claimed|claims|told|tells|denied|denies|reported|reports|stated|states|announced|announces|"
    "insisted|insists|argued|argues|alleged|alleges|asserted|asserts|confirmed|confirms|warned|warns|"
    "added|maintained|maintains|acknowledged|admitted|admits"
)
_VERB = re.compile(r"(?<![\w’'-])(" + _VERBS + r")\b")
_DENIAL_VERBS = frozenset({"denied", "denies"})
_PASSIVE = re.compile(r"\b(?:was|were|is|are|been|be|being|it|has|have|had)\s*$", re.I)
# Adverbials that open a sentence before its subject: "On July 22", "Two days later", "Last week".
_LEADING_TIME = re.compile(
    r"^(?:(?:On|In|By|Since|Until)\s+(?:[A-Z][a-z]+|\d{4})(?:\s+\d{1,2})?(?:,\s*\d{4})?"
    r"|(?:[A-Z][a-z]+|\d+)\s+(?:days?|weeks?|months?|years?)\s+(?:later|ago|earlier)"
    r"|(?:Last|This|Next|Earlier|Later)(?:\s+(?:week|month|year|[A-Z][a-z]+day))?"
    r"|Meanwhile|However|But|And|Yet|Still|Also)\b,?\s*"
)
_INNER_ADVERB = re.compile(r",\s*(?:furthermore|however|moreover|meanwhile|in turn|too|also),\s*", re.I)
_TRAILING_ADVERB = re.compile(r"\s+(?:also|later|then|again|repeatedly|previously|earlier|recently|has|had|have)$")
# A named speaker: a capitalised word after the first one ("Ambassador Anatoly Viktorov"), a name that
# opens the subject ("Netanyahu"), or a noun for someone who speaks for others ("another Russian diplomat").
_SPEAKER_NOUNS = frozenset(
    "official officials spokesman spokeswoman spokesperson minister ministry government regime army military "
    "diplomat diplomats ambassador envoy broadcaster agency newspaper police president premier leader leaders "
    "report reports statement sources source analysts experts witnesses residents activists mouthpiece "
    "commander commanders prosecutor prosecutors court judge officer officers media general colonel chief mayor "
    "governor secretary chairman director head".split()
)
_DETERMINERS = frozenset(
    "the a an this that these those it he she they we i there many some most all several few".split()
)
_MAX_SUBJECT_WORDS = 14
# After "told": whom it was told to. "Channel 10 in Israel", "state-controlled Sputnik news in Russia".
_RECIPIENT = re.compile(
    r"(?:(?:[\w’'-]+\s+){0,4}?in\s+[A-Z][\w’'-]*"
    r"|[A-Z][\w’'.-]*(?:\s+(?:\d+|[A-Z][\w’'.-]*))*"
    r"|him|her|them|us|me|reporters|journalists)\s+"
)
_AFTER_VERB_TIME = re.compile(
    r"^(?:(?:on|last|this)\s+[A-Z]?[a-z]+(?:\s+\d{1,2})?|[A-Z][a-z]+day)(?:\s+(?:night|morning|evening|afternoon))?"
    r",?\s+"
)
_THAT = re.compile(r"^that\s+")
_CIRCUMSTANCE = re.compile(r"^(?:during|at|in|after|before|while|on|from|via|through)\b")
_LATER_THAT = re.compile(r"\bthat\s+")
_ACCORDING = re.compile(r"\b[Aa]ccording to\s+(?P<speaker>[^,.;:!?“”\"]+)")
_SOURCE_NOUN = re.compile(r"^(?:a|an|the)\s+(?:\w+\s+)?(?:statement|report|communiqué|release)\s+(?:\w+\s+)?by\s+")
_NOT_TRUTH = re.compile(
    r"^(?:[Ii]t appears that\s+)?(?P<target>[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)\s+"
    r"(?:(?:wasn[’']t|was not|isn[’']t|is not|weren[’']t|were not)\s+(?:speaking|telling)\s+the\s+truth|lied)\b"
)
_CONTRADICTED = re.compile(
    r"\b(?:contradicted|refuted|disputed|rejected)\s+(?P<target>[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)"
)
_CONTRADICTED_AND = re.compile(r"\s+" + _CONTRADICTED.pattern.removeprefix(r"\b") + r"\s+and\s*$")
_QUOTE_FIRST = re.compile(
    r"^[“\"](?P<claim>[^”\"]+?)[,.!?]?[”\"],?\s+(?P<speaker>[^,“”\"]{2,80}?)\s+(?P<verb>" + _VERBS + r")\b"
    r"(?:\s+(?:on|last)\s+\w+)?\.?$"
)
_HEDGE = re.compile(r"\b(reportedly|allegedly|purportedly|supposedly)\b")
_TRIM = "“”\"‘’' ,;:\xa0\t\n"


def find_claims(text: str) -> list[Claim]:
    """The claims reported in ``text`` (a document's cleaned text), one per sentence at most."""
    claims = []
    for start, end in split_sentences(text):
        claim = sentence_claim(text[start:end], start)
        if claim is not None:
            claims.append(claim)
    return claims


def sentence_claim(sentence: str, offset: int = 0) -> Claim | None:
    """The claim one sentence reports, with offsets shifted by ``offset``; None when it reports none."""
    end = len(sentence)
    disputed = _NOT_TRUTH.search(sentence)
    if disputed:
        # The text itself says someone's claim is false: the speaker is the document's author.
        return _claim(sentence, offset, 0, end, None, "disputes", "dispute", " ".join(disputed.group("target").split()))
    contradicted = _CONTRADICTED.search(sentence)
    target = contradicted.group("target") if contradicted else None
    kind: ClaimKind = "dispute" if contradicted else "claim"
    quoted = _QUOTE_FIRST.match(sentence)
    if quoted:  # "“We will not withdraw,” the minister said."
        speaker = _speaker(quoted.group("speaker"))
        if speaker is not None:
            return _claim(sentence, offset, 0, quoted.end("claim"), speaker, quoted.group("verb"), kind, target)
    found = _reporting_verb(sentence)
    if found is not None:
        speaker, verb, claim_start = found
        kind = "denial" if verb in _DENIAL_VERBS else kind
        return _claim(sentence, offset, claim_start, end, speaker, verb, kind, target)
    according = _ACCORDING.search(sentence)
    if according:
        speaker = _SOURCE_NOUN.sub("", according.group("speaker").strip())
        if according.start() > len(sentence) / 2:  # "..., according to X."
            return _claim(sentence, offset, 0, according.start(), speaker, "according to", kind, target)
        rest = sentence.find(",", according.end())
        return _claim(
            sentence, offset, rest + 1 if rest >= 0 else according.end(), end, speaker, "according to", kind, target
        )
    hedge = _HEDGE.search(sentence)
    if hedge:
        return _claim(sentence, offset, 0, end, None, hedge.group(1), kind, target)
    return None


def _reporting_verb(sentence: str) -> tuple[str, str, int] | None:
    """(speaker, verb, where the claim starts) for the first reporting verb with a named subject."""
    for match in _VERB.finditer(sentence):
        before = sentence[: match.start()]
        if _PASSIVE.search(before) or not before.strip():
            continue
        speaker = _speaker(before)
        if speaker is None:
            continue
        return speaker, match.group(1), _claim_start(sentence, match.end(), match.group(1))
    return None


def _speaker(subject: str) -> str | None:
    """The subject before a reporting verb as a speaker, or None when it is not one."""
    previous = None
    while previous != subject:  # "On July 22, ...", "Two days later ..." (several may stack)
        previous = subject
        subject = _LEADING_TIME.sub("", subject.strip(), count=1)
    subject = _INNER_ADVERB.sub(" ", subject)
    subject = _CONTRADICTED_AND.sub("", subject)  # "another Russian diplomat contradicted Viktorov and"
    subject = _TRAILING_ADVERB.sub("", subject.strip()).strip(_TRIM)
    # A clause boundary before the verb ("..., and X said") leaves only the last clause as the subject.
    subject = re.split(r"[;:]|\band\s+(?=[A-Z])", subject)[-1].strip(_TRIM)
    tokens = subject.split()
    if not tokens or len(tokens) > _MAX_SUBJECT_WORDS:
        return None
    bare = [t.strip(_TRIM).removesuffix("’s").removesuffix("'s") for t in tokens]
    named = any(t[:1].isupper() for t in bare[1:]) or (bare[0][:1].isupper() and bare[0].lower() not in _DETERMINERS)
    if not named and not any(t.lower() in _SPEAKER_NOUNS for t in bare):
        return None
    return " ".join(subject.split())


def _claim_start(sentence: str, position: int, verb: str) -> int:
    rest = sentence[position:].lstrip(_TRIM)
    position = len(sentence) - len(rest)
    if verb in ("told", "tells"):
        recipient = _RECIPIENT.match(rest)
        if recipient:
            position += recipient.end()
    rest = sentence[position:]
    timed = _AFTER_VERB_TIME.match(rest)
    if timed:
        position += timed.end()
    rest = sentence[position:]
    that = _THAT.match(rest)
    if that:
        return position + that.end()
    if _CIRCUMSTANCE.match(rest):  # "said during a ceremony in Nabatieh ... that Hezbollah ..."
        later = _LATER_THAT.search(rest)
        if later:
            return position + later.end()
    return position


def _claim(
    sentence: str,
    offset: int,
    start: int,
    end: int,
    speaker: str | None,
    verb: str,
    kind: ClaimKind,
    target: str | None,
) -> Claim:
    piece = sentence[start:end]
    start += len(piece) - len(piece.lstrip(_TRIM))
    end -= len(piece) - len(piece.rstrip(_TRIM + "."))
    if end <= start:
        start, end = 0, len(sentence)
    return Claim(offset, offset + len(sentence), offset + start, offset + end, speaker, verb, kind, target)
