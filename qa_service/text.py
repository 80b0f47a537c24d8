"""Small text primitives shared by retrieval, evidence ranking and verification."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters a reader cannot see that can still carry text to a model: Unicode tags (U+E0000-E007F, an
# invisible copy of ASCII), zero-width characters and joiners, bidirectional controls, and the BOM.
_INVISIBLE = dict.fromkeys(
    [*range(0xE0000, 0xE0080), *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065),
     *range(0x2066, 0x206A), 0x061C, 0x180E, 0xFEFF]
)  # fmt: skip


def unencodable_at(text: str) -> int | None:
    """Where ``text`` holds a character UTF-8 cannot carry (a lone surrogate such as ``"\\ud800"``, which JSON
    allows), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def strip_invisible(text: str) -> str:
    """``text`` without invisible characters (tags, zero-width, bidi controls)."""
    return text.translate(_INVISIBLE)


STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "according",
        "said",
        "says",
        "tell",
        "told",
        "did",
        "does",
        "do",
        "get",
        "got",
        "many",
        "much",
        "whose",
        "article",
        "text",
        "document",
        "say",
    ]
)

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\s?(?:%|km|kilometers?|kilometres?))?", re.IGNORECASE)
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twenty": "20",
    "hundred": "100",
    "dozens": "dozens",
    "thousands": "thousands",
    "hundreds": "hundreds",
}


def normalize(text: str) -> str:
    """NFKC, curly quotes straightened, lower-cased."""
    text = unicodedata.normalize("NFKC", text)
    return text.translate(str.maketrans("’‘“”", "''\"\"")).lower()


def stripped_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` narrowed to leave out the whitespace at both ends of ``text[start:end]`` (empty when
    it is all whitespace)."""
    piece = text[start:end]
    start += len(piece) - len(piece.lstrip())
    return start, start + len(piece.strip())


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """Each word's start and end in ``text`` as given, with the word normalised."""
    return [(m.start(), m.end(), normalize(m.group(0))) for m in _WORD.finditer(text)]


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    word = word.removesuffix("'s")
    return str(_stemmer().stemWord(word))  # type: ignore[attr-defined]


def stem_terms(text: str) -> list[str]:
    """Content-word stems (stopwords dropped) in order, duplicates kept. A stopword contracted with "'s"
    ("what's", "it's", "there's") is a stopword too, not the content word "what"."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and w.removesuffix("'s") not in STOPWORDS]


def numbers(text: str) -> set[str]:
    """Numbers written with digits or as common number words, normalised ("1,000" -> "1000")."""
    # Separators go first, so "85 km" and "85km" both come out as "85" (a one-pass sub missed the unit
    # after a space, and a question saying "85 km" was refused against a text saying "85km").
    found = {
        re.sub(r"(?<=\d)(km|kilomet\w+|%)$", "", re.sub(r"[,\s]", "", m.group(0).lower()))
        for m in _NUMBER.finditer(text)
    }
    found.update(_NUMBER_WORDS[w] for w in words(text) if w in _NUMBER_WORDS)
    return {n.rstrip(".") for n in found if n}


_NAME = re.compile(r"(?<![\w’'-])[A-Z][\w’'-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|[\"“‘(]\s*)$")


def proper_names(text: str, *, skip_sentence_initial: bool = False) -> set[str]:
    """Lower-cased capitalised words that are not stopwords (a cheap stand-in for NER).

    With ``skip_sentence_initial`` a word that starts a sentence is not taken for a name.
    """
    names: set[str] = set()
    for match in _NAME.finditer(text):
        if skip_sentence_initial and _SENTENCE_START.search(text[: match.start()]):
            continue
        # Identifiers split like words do ("IM_A_TEAPOT" -> im, teapot), so names and text compare alike.
        for word in words(match.group(0).removesuffix("'s").removesuffix("’s")):
            if len(word) > 2 and word not in STOPWORDS and not word.isdigit():
                names.add(word)
    return names


def mentions(name: str, text_words: set[str], *, strict: bool = False) -> bool:
    """Is a name mentioned? Loose (for finding evidence): demonyms and inflections share a 5-letter
    prefix (Iran ~ Iranian, Lebanese ~ Lebanon). Strict (for verifying an answer): one word must
    extend the other (Iran ~ Iranian, but not Jabhar ~ Jabhat)."""
    if name in text_words:
        return True
    if strict:
        return any(len(w) >= 4 and (w.startswith(name) or name.startswith(w)) for w in text_words)
    prefix = name[:5]
    return any(w.startswith(prefix) for w in text_words)
