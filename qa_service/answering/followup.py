"""Turn a follow-up into a standalone question using the conversation's previous question and answer.

Deterministic, and it only ever carries words over from the conversation: a small LLM rewrites unreliably,
and a wrong rewrite silently answers a different question. These shapes are understood:
- a new condition, "What if I'm writing to stdout?" / "And when the group doesn't exist?": the previous
  question with its own "if/when ..." replaced by the new one (after "How do I ...?", with the way the
  answer named);
- a swap, "What about X?" / "How about X?" / "And X?" / "And on Windows?" / "And 9?": the previous question
  with X in the place of the thing X stands for (same kind of token: a path for a path, an option for an
  option, a name for a name, a number for a number; the same preposition's object; the name before "option",
  "module", "directory" ...); when no such place is found, X is asked about in the previous question's terms;
- a choice, "Which one is the default?" / "Which of those beeps?": the previous question with the names its
  answer listed;
- a reference, "And what happens if it is set to 0?", "And its default?", "Can I toggle that?", "Is there a
  cap on that list?": the pronoun or demonstrative is replaced by what the previous turn was about (the way
  or the name the answer gave to "How do I ...?" / "Which setting ...?", what "What does X do?" asked about,
  a code-like name, a person's or group's name), keeping the previous question's scope ("In less, ...");
- an ellipsis, a short follow-up that names nothing of its own ("any upper limit on n?", "default size of the
  statement cache?"): the previous turn's subject added ("..., for itertools.tee()?");
- anything else stands alone (None).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from qa_service.answering.lexicon import PLACE_WORDS
from qa_service.domain import CITATION_MARKER
from qa_service.text import stem_terms

_ELIDED_MAX_WORDS = 10  # a follow-up that omits its subject is short, or has no verb
_BARE_SUBJECT = re.compile(
    r"^\s*(?:and\s+)?(?:does|do|did|is|are|was|were|can|could|will|would|should|has|have)\s+"
    r"(?!(?:the|a|an|there|i|you|we|it|they|this|that|these|those|my|your|its|their|any|some|all|each)\b)"
    r"[a-z][\w-]*\s+[a-z]",
    re.I,
)
_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers|they|them|their|it|its|this one|that one|one)\b", re.I)
_PERSONAL = {"he", "him", "his", "she", "her", "hers"}
_POSSESSIVE = {"his", "her", "its", "their"}
_ONE = {"one", "this one", "that one"}
_THEIR = re.compile(r"^\s*(?:their|its)\s+", re.I)
_LEAD = re.compile(r"^\s*(and|so|but|also|then|ok|okay)\b[\s,]*", re.I)
_SWAP = re.compile(r"^\s*(?:(?:and\s+)?(?:what|how)\s+about|and)\s+(?P<x>.+?)\s*\??\s*$", re.I)
_VERB = re.compile(
    r"\b(is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|happens?|means?|returns?|"
    r"use[sd]?|set|get|make|work|change|say|says|mean)\b",
    re.I,
)
_NAME = re.compile(r"\b([A-Z][\w’'-]+(?:\s+(?:al-|bin\s+)?[A-Z][\w’'-]+)+)")
_TITLES = re.compile(r"^(The|A|An|On|In|At|Last|This|That|President|Prime|Ambassador|Minister)\s+")
# A token that names something in a manual: a path, an option, a call, a dotted or snake_case or camelCase
# name, a quoted term, an upper-case constant.
_CODE = re.compile(
    r"(?<![\w/.-])(?:/[\w.+-]+(?:/[\w.+-]*)*|--?[A-Za-z][\w-]*|[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+(?:\(\))?"
    r"|[A-Za-z_]\w*\((?:\w{1,12}(?:,\s?\w{1,12}){0,3})?\)"  # a call, bare or with short arguments: diag(v)
    r"|[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*|\w+_\w+|[A-Z][A-Z0-9_]{2,}|[‘'\"“][^‘'\"“”’]{1,40}[’'\"”])"
)
_PREPOSITIONS = ("on", "in", "for", "with", "under", "to", "from", "of", "at", "by")
_HEADS = (
    "option", "options", "flag", "flags", "variable", "variables", "command", "commands", "module", "modules",
    "directory", "directories", "file", "files", "function", "functions", "method", "methods", "class", "field",
    "keyword", "keywords", "event", "events", "setting", "settings", "parameter", "argument", "program", "package",
    "hierarchy", "section", "header", "mode", "format", "policy", "language",
)  # fmt: skip
_WH_NOUN = re.compile(
    r"^\s*(?:what|which)\s+(?P<np>(?:[\w.’'/-]+\s+){0,3}?[\w.’'/-]+)\s+(?:does|do|did|is|are|was|were|can|should|must)\b",
    re.I,
)
_WHAT_IS = re.compile(
    r"^\s*what\s+(?:is|are|does|do)\s+(?P<x>.+?)(?:\s+(?:do|mean|stand for|hold|contain))?\s*\?", re.I
)
_WHAT_DOES = re.compile(r"^\s*(?:in\s+[^,?]{1,40},\s*)?what\s+(?:does|do)\s+(?P<x>[^?]+?)\s+do\b", re.I)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
# A question asking for a way to do something, or for the name of a thing: a pronoun after it points at what
# the answer named ("How do I ...?" -> "Use -N." -> "Can I toggle it?"; "Which setting ...?" -> "ENCRYPT_METHOD").
_ASKS_FOR_A_MEANS = re.compile(
    r"^\s*(?:(?:in|with|for)\s+[^,?]{1,40},\s*)?(?:how\s+(?:do|can|should|would)\s+(?:i|you|we|one)\b|how\s+to\b"
    r"|is\s+there\s+a\s+way\b|(?:which|what)\s+(?:[\w.-]+\s+){0,2}(?:option|setting|flag|variable|item|argument"
    r"|function|command|method|keyword|parameter|exception|class|module)s?\b)",
    re.I,
)
# A follow-up that only changes the condition: "What if I'm writing to stdout?", "And when the group is missing?"
_CONDITION = re.compile(r"^\s*(?:and\s+|but\s+)?(?:what\s+)?(?P<c>(?:if|when|unless)\s+[^?,]+?)\s*\?\s*$", re.I)
# "that list", "this option": a demonstrative before a noun; "enforce that?": one standing for a thing.
_DEMONSTRATIVE = re.compile(r"\b(?:that|this|those|these)\s+(?P<noun>[a-z]+)\b|\b(?:that|this)(?=\s*[?.!]?\s*$)", re.I)
_OF_THOSE = re.compile(r"\b(?:which|what)\s+(?:of\s+(?:those|these|them)|\w+\s+of\s+(?:those|these|them))\b", re.I)
# The scope a question is asked in: "In less, ...", "... with useradd?", "..., with wget?".
_SCOPE = re.compile(
    r"^\s*(?P<a>in|with|for|using)\s+(?P<x>[^,?]{1,40}),|\b(?P<b>with|in|for|using)\s+(?P<y>[\w.+-]+)\s*\?\s*$", re.I
)


class Turn(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...


def rewrite_followup(question: str, history: Sequence[Turn]) -> str | None:
    """The standalone question, or None when the question already stands alone."""
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if previous is None:
        return None
    standalone = _resolved(question, previous, history)
    return None if standalone is None else _capital(standalone)


def _resolved(question: str, previous: str, history: Sequence[Turn]) -> str | None:
    condition = _CONDITION.match(question)
    if condition is not None:
        clause = condition.group("c")
        pronoun = _PRONOUN.search(clause)
        if pronoun is not None and pronoun.group(1).lower() not in _ONE:  # "And if I pass it a matrix?"
            referent = _referent(pronoun.group(1).lower(), previous, history)
            if referent is None:
                return None
            clause = clause[: pronoun.start()] + referent + clause[pronoun.end() :]
        means = _named_by_answer(previous, history)[:1] if _ASKS_FOR_A_MEANS.match(previous) else []
        return _conditioned(previous.strip(), clause, means)
    swap = _SWAP.match(question)
    if swap and not _VERB.search(swap.group("x")) and len(swap.group("x").split()) <= 6:
        x = swap.group("x")
        if re.search(r"\babout\b", question, re.I):  # "What about their variable data?": same subject, other data
            x = _THEIR.sub("", x)
        if not _PRONOUN.search(x):  # "And its default?" asks for the default of what "its" points at
            return _swapped(previous.strip(), x)
    pronoun = _PRONOUN.search(question)
    if (pronoun is not None and pronoun.group(1).lower() in _ONE) or _OF_THOSE.search(question):
        # "Which one is the default?", "Which of those beeps?": one of what the previous turn listed, with the
        # names the answer listed ("Which items set PATH (ENV_PATH, ENV_SUPATH) — what's the root one's default?")
        listed = _named_by_answer(previous, history)
        named = f" ({', '.join(listed[:4])})" if len(listed) >= 2 else ""
        return f"{previous.strip().rstrip('?')}{named} — {question[:1].lower()}{question[1:]}"
    demonstrative = _DEMONSTRATIVE.search(question)
    if pronoun is None and demonstrative is None:
        return _elided(question, previous, history)
    if pronoun is None or (demonstrative is not None and demonstrative.start() < pronoun.start()):
        assert demonstrative is not None
        referent = _referent("it", previous, history)
        if referent is None:
            return None
        replacement = _demonstrated(demonstrative.group("noun"), referent, history)
        start, end = demonstrative.span()
    else:
        referent = _referent(pronoun.group(1).lower(), previous, history)
        if referent is None:
            return None
        replacement = referent + ("'s" if pronoun.group(1).lower() in _POSSESSIVE else "")
        start, end = pronoun.span()
    standalone = _LEAD.sub("", question[:start] + replacement + question[end:])
    if not _VERB.search(standalone) and not re.match(r"\s*(?:what|which|who|when|where|why|how)\b", standalone, re.I):
        standalone = f"What is {standalone}"  # "And its default?" -> "What is recvBufferSize's default?"
    return _scoped(standalone, previous)


def _elided(question: str, previous: str, history: Sequence[Turn]) -> str | None:
    """A follow-up that names nothing of its own asks about the previous turn's subject: "any upper limit on
    n?", "default size of the statement cache?" -> "..., for itertools.tee()?". It names something of its own
    when it holds a code-like name or a person's name, or shares a content word with the previous question
    ("How do I create a temporary directory?" after "... a temporary file?"); a long question with a verb is
    taken to stand alone."""
    if _CODE.search(question) or _names(question) or set(stem_terms(question)) & set(stem_terms(previous)):
        return None
    if len(question.split()) > _ELIDED_MAX_WORDS and _VERB.search(question):
        return None
    if _BARE_SUBJECT.match(question):  # "Does hashlib support bcrypt?": a bare noun as subject is a name
        return None
    referent = _referent("it", previous, history)
    if referent is None:
        return None
    return f"{_LEAD.sub('', question).strip().rstrip(' ?')}, for {referent}?"


def _demonstrated(noun: str | None, referent: str, history: Sequence[Turn]) -> str:
    """What "that <noun>" (or "that" alone) stands for: the <noun> the conversation named ("that file" -> "the
    history file"), else the referent's <noun> ("that list" -> "the -G list")."""
    if noun is None or _VERB.fullmatch(noun):  # "enforce that?", "does that work?": "that" stands alone
        return referent + (f" {noun}" if noun else "")
    turns = " ".join(CITATION_MARKER.sub("", t.content) for t in history[-2:])
    named = re.search(rf"\bthe\s+([a-z][\w-]+)\s+{noun}\b", turns)
    if named is not None and not _VERB.fullmatch(named.group(1)):
        return f"the {named.group(1)} {noun}"
    return f"the {referent} {noun}"


def _conditioned(previous: str, condition: str, means: list[str]) -> str:
    """The previous question under another condition: its own "if/when ..." replaced, or the new one added;
    after "How do I ...?", with the way the answer named ("... (Path.mkdir) if the directory exists?")."""
    word = condition.split()[0].lower()
    own = re.search(r"[,\s]+(?:if|when|unless)\b[^?]*", previous, re.I) if word != "unless" else None
    stem = previous[: own.start()] if own is not None else previous.rstrip(" ?")
    return f"{stem}{''.join(f' ({m})' for m in means)} {condition}?"


def _scoped(standalone: str, previous: str) -> str:
    """The previous question's scope ("In less, ...", "... with useradd?") carried over when the rewrite lost it."""
    scope = _SCOPE.search(previous)
    if scope is None:
        return standalone
    preposition, thing = (
        (scope.group("a"), scope.group("x")) if scope.group("a") else (scope.group("b"), scope.group("y"))
    )
    if thing.lower() in standalone.lower():
        return standalone
    if scope.group("b") and not (thing.islower() or _CODE.fullmatch(thing)):
        return standalone  # "... envoy in Syria?" names a place the question was about, not a tool it used
    return f"{standalone.rstrip(' ?')}, {preposition.lower()} {thing.strip()}?"


def _capital(text: str) -> str:
    """Sentence case, unless it starts with a name written in lower case ("recvBufferSize's default?")."""
    first = _CODE.match(text)
    return text if first is not None else text[:1].upper() + text[1:]


def _swapped(previous: str, x: str) -> str:
    """``previous`` asked about ``x`` instead of what it was about."""
    x = x.strip().rstrip("?").strip()
    words = x.split()
    if words and words[0].lower() in _PREPOSITIONS:  # "And on Windows?": the same preposition's object
        found = _phrase_after(previous, words[0])
        if found is not None:
            return previous[: found[0]] + " ".join(words[1:]) + previous[found[1] :]
    bare = _ARTICLE.sub("", x)
    compound = re.match(r"(?P<a>\S+)\s+(?P<p>" + "|".join(_PREPOSITIONS) + r")\s+(?P<b>\S+)$", bare)
    if compound is not None:  # "the ‘n’ in ngettext" for "the ‘p’ in pgettext"
        a = _slot(previous, compound.group("a"))
        if a is not None:
            after = re.match(rf"\s+{compound.group('p')}\s+\S+?(?=[\s?,;:]|$)", previous[a[1] :])
            if after is not None:
                return previous[: a[0]] + bare + previous[a[1] + after.end() :]
    span = _slot(previous, bare)
    if span is not None:
        return previous[: span[0]] + bare + previous[span[1] :]
    return f"{previous.rstrip(' ?')}: what about {bare}?"


def _phrase_after(text: str, preposition: str) -> tuple[int, int] | None:
    """The span of the (last) object of ``preposition`` in ``text``: up to the next punctuation or preposition."""
    matches = list(re.finditer(rf"\b{preposition}\s+(?:the\s+)?", text, re.I))
    if not matches:
        return None
    start = matches[-1].end()
    stop = re.compile(r"[?,;:]|\s(?:" + "|".join(_PREPOSITIONS) + r"|by default)\b", re.I).search(text, start)
    end = stop.start() if stop else len(text)
    return (start, end) if end > start else None


def _kind(token: str) -> str:
    if token.startswith("/"):
        return "path"
    if token.startswith("-"):
        return "option"
    if token[:1] in "‘'\"“":
        return "quoted"
    if token.endswith(")"):
        return "call"
    if "." in token:
        return "dotted"
    if token[:1].isupper() and not token.isupper():
        return "Name"
    return "code"


def _slot(previous: str, x: str) -> tuple[int, int] | None:
    """Where in ``previous`` the thing ``x`` replaces is named."""
    code = list(_CODE.finditer(previous))
    if x.isdigit():  # "And 9?" after "What does exit status 4 mean?"
        number = re.search(r"\b\d+\b", previous)
        if number is not None:
            return number.span()
    if _CODE.fullmatch(x):
        same = [m for m in code if _kind(m.group(0)) == _kind(x)]
        if same:
            return same[0].span()
    if x[:1].isupper():  # a name for a name ("Arabic" -> "Slovenian"), not the question's first word
        names = [m for m in re.finditer(r"\b[A-Z][a-z][\w-]*\b", previous) if m.start() > 0]
        if names:
            return names[-1].span()
        found = _phrase_after(previous, "for")  # "the default flush for zlib-based classes" -> "for Brotli"
        if found is not None:
            return found
    # The name before a generic head noun: "the unicode option", "the Node.js cluster module".
    head = re.search(r"\b([\w.’'()/-]+)\s+(?:" + "|".join(_HEADS) + r")\b", previous[1:])
    if head is not None and head.group(1).lower() not in ("the", "a", "an", "default", "which", "what"):
        return head.start(1) + 1, head.end(1) + 1
    if code:
        return code[-1].span()
    subject = re.search(r"\b(?:does|do|did|is|are|can|should|must)\s+(?:the\s+)?([\w.-]+)\s+\w", previous)
    if subject is not None and " " not in x:  # "Which user does sshd run as?" -> "... does ssh-agent run as?"
        return subject.span(1)
    found = _phrase_after(previous, "for")  # "default keywords for Lisp" -> "for awk"
    if found is not None:
        return found
    return None


def _referent(pronoun: str, previous: str, history: Sequence[Turn]) -> str | None:
    """What a pronoun in the follow-up points at."""
    if pronoun in _PERSONAL or pronoun in ("they", "them", "their"):
        for turn in reversed(history):  # people and groups: the previous answer's names first
            names = _names(CITATION_MARKER.sub("", turn.content))
            if names:
                return names[0]
        if pronoun in _PERSONAL:
            return None
    if _ASKS_FOR_A_MEANS.match(previous):  # "How do I get X?" -> "Set OUTPUT_CHARSET ..." -> "Does it ...?"
        named = _named_by_answer(previous, history)
        if named:
            return named[0]
    does = _WHAT_DOES.match(previous)
    if does is not None:  # "What does the stacklevel argument do on Logger.debug()?": what it asks about
        return _ARTICLE.sub("", does.group("x"))
    wh = _WH_NOUN.match(previous)
    if (
        wh is not None
        and not _code_follows(previous, wh.end())
        and not _CODE.search(wh.group("np"))
        and not _VERB.match(wh.group("np"))
    ):
        return "the " + wh.group("np")
    code = _CODE.search(previous)
    if code is not None:
        return code.group(0)
    what = _WHAT_IS.match(previous)
    if what is not None:
        return _ARTICLE.sub("", what.group("x")).strip()
    names = _names(previous)
    return names[0] if names else None


def _named_by_answer(previous: str, history: Sequence[Turn]) -> list[str]:
    """The code-like names the previous answer gave that its question did not ("-s (--shell)": one option)."""
    answer = CITATION_MARKER.sub("", next((t.content for t in reversed(history) if t.role == "assistant"), ""))
    named: list[str] = []
    asked = {m.group(0) for m in _CODE.finditer(previous)}
    for m in _CODE.finditer(answer):
        if m.group(0) in asked or not re.search(r"[A-Za-z]", m.group(0)) or answer[: m.start()].endswith("("):
            continue
        alias = re.match(r"\s*\((--?[A-Za-z][\w-]*)", answer[m.end() :])
        name = f"{m.group(0)} ({alias.group(1)})" if alias else m.group(0)
        if name not in named and not any(name in n for n in named):
            named.append(name)
    return named


def _code_follows(text: str, at: int) -> bool:
    """A code-like name at ``at``: the subject of "What file mode does logging.basicConfig use?" is what a
    pronoun after it points at, not the thing the question asks for."""
    return _CODE.match(text, len(text) - len(re.sub(r"^\s*(?:the\s+)?", "", text[at:]))) is not None


def _names(text: str) -> list[str]:
    """Multi-word capitalised names of people or groups in order of appearance (titles dropped, places
    such as "Golan Heights" skipped: a pronoun like "him" or "they" rarely points at a place)."""
    found = []
    for match in _NAME.finditer(text):
        name = _TITLES.sub("", match.group(1)).strip()
        if " " in name and name.split()[-1].lower() not in PLACE_WORDS:
            found.append(name)
    return found
