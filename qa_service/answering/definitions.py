"""Questions that ask what something is or does, and the sentences that define it.

"What is a factor in R?", "What does the msgconv program do?", "What is /usr/libexec used for?" are
answered by the sentence a manual uses to introduce its subject, which often shares fewer of the
question's words than a passing mention does ("R provides both ordered and unordered factors" against
"A factor is a vector object used to ..."). A reader recognises the defining sentence by its shape, not
its words: the subject opens it and a verb follows ("The msgconv program converts ..."), it names the
subject as what something "is called", or it opens the text under a heading or definition term naming
the subject ("Class: zlib.Unzip" / "Decompress either a Gzip- or Deflate-compressed stream ..."), or it
refers back to a sentence naming it ("... a file named LINGUAS. This file contains ...").
"""

from __future__ import annotations

import re

from qa_service.answering.anaphora import refers_back
from qa_service.answering.lexicon import THING_NOUNS
from qa_service.text import stem, stem_terms

_ARTICLE = r"(?:(?:the|a|an)\s+)?"
# The subject is what is left between the question's frame and its end, cut at its first preposition ("a
# factor in R" -> "a factor"); cut at "of" or "between" it is a relation ("the return value of fork()", "the
# difference between ..."), not a thing, and the question is not definitional.
_FRAMES = (
    re.compile(
        r"^what(?:['’]s|\s+is|\s+are)\s+(?:the\s+(?:purpose|point|role|job|use|meaning)\s+of\s+"
        r"(?:having\s+|using\s+)?)?(?!(?:used|meant|intended|needed|required|done|called)\b)"
        r"(?P<subject>.+?)(?:\s+(?:used|meant|intended|good)\s+for)?\s*\?$",
        re.I,
    ),
    re.compile(
        r"^what\s+(?:does|do)\s+(?P<subject>.+?)\s+(?:do|mean|stand\s+for|represent|contain|provide)\s*\?$", re.I
    ),
    re.compile(
        r"^what\s+(?:job|purpose|role|function)\s+(?:does|do)\s+(?P<subject>.+?)\s+"
        r"(?:perform|serve|have|play|fulfil|fulfill)\s*\?$",
        re.I,
    ),
)
_PREPOSITION = re.compile(r"\s+(?:in|of|on|within|inside|for|from|between|under|when|if|with)\s+", re.I)
MAX_SUBJECT_WORDS = 4  # a longer "subject" is a clause, not a thing the documents would define
_THING_STEMS = frozenset(stem(n) for n in THING_NOUNS)
_CALLED = re.compile(r"\b(?:is|are)\s+(?:called|named|termed|known\s+as|referred\s+to\s+as)\s+(?P<rest>.{1,100})", re.I)
_NOT_A_VERB = re.compile(r"^(?:and|or|nor|but|vs)$", re.I)


def definition_subject(focus: str) -> tuple[str, ...]:
    """The stems that name what a definitional question asks about, without kind nouns ("the msgconv
    program" -> ("msgconv",)); () when the question is not of that kind."""
    text = " ".join(focus.split())
    for frame in _FRAMES:
        match = frame.match(text)
        if match is None:
            continue
        cut = _PREPOSITION.search(match.group("subject"))
        if cut is not None and cut.group(0).strip().lower() in ("of", "between"):
            return ()
        subject = match.group("subject")[: cut.start()] if cut is not None else match.group("subject")
        subject = re.sub(r"^" + _ARTICLE, "", subject, flags=re.I).strip(" `'\"‘’“”")
        if not subject or len(subject.split()) > MAX_SUBJECT_WORDS:
            return ()
        stems = tuple(dict.fromkeys(stem_terms(subject)))
        core = tuple(s for s in stems if s not in _THING_STEMS)
        return core or stems
    return ()


DEFINES, TITLED = 1.0, 2.0  # the strengths ``defines`` returns


def defines(subject: tuple[str, ...], text: str, *, intro: str | None, opens_block: bool) -> float:
    """How surely this sentence defines ``subject``: TITLED when it opens the text under a heading or
    term titled with the subject ("Class: zlib.Unzip", "bisect.insort_left(a, x, ...)"), DEFINES when it
    has a defining shape, else 0. ``intro`` is the text it follows: the headings and definition term
    right above it, one per line, when it opens its block (``opens_block``), else the sentence before it
    (None: none)."""
    if not subject:
        return 0.0
    wanted = set(subject)
    if opens_block and intro is not None and any(_titled(subject, line) for line in intro.splitlines()):
        return TITLED
    tokens = text.split()
    # The subject opens the sentence (after at most two words: "The ...", "Instances of ...") and a word
    # that can be its verb follows ("A factor is", "/usr/libexec includes"; not "a factor, or").
    first = next((i for i, t in enumerate(tokens[:3]) if wanted & set(stem_terms(t))), None)
    if first is not None:
        for n in range(first + 1, min(len(tokens) - 1, first + len(subject)) + 1):
            if wanted <= set(stem_terms(" ".join(tokens[first:n]))):
                after = tokens[n]
                if tokens[n - 1][-1] not in ",:;([" and after[:1].isalpha() and not _NOT_A_VERB.match(after):
                    return DEFINES
                break
    called = _CALLED.search(text)
    if called is not None and wanted <= set(stem_terms(" ".join(called.group("rest").split()[: len(subject) + 2]))):
        return DEFINES
    if intro is None or not wanted <= set(stem_terms(intro)):
        return 0.0
    return DEFINES if opens_block or refers_back(text) else 0.0


def _titled(subject: tuple[str, ...], heading: str) -> bool:
    """Is the heading titled with the subject: its first words, past a number and a kind, name the subject
    and nothing more ("3.12. /mnt : ...", "Class: zlib.Unzip"; not "broadcastChannel.unref()" for a
    question about BroadcastChannel, nor "zlib.unzip(buffer)" for one about the zlib.Unzip class)?"""
    wanted, seen = set(subject), set[str]()
    for token in heading.split():
        stems = {s for s in stem_terms(token) if not s.isdigit() and s not in _THING_STEMS}
        if not stems and not seen:
            continue  # "3.12.", "Class:"
        if not stems <= wanted:
            return False
        seen |= stems
        if seen == wanted:
            return True
    return False
