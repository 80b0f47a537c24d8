"""The answering policy's word lists, as data (data/lexicon.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path

_DATA = tomllib.loads((Path(__file__).with_name("data") / "lexicon.toml").read_text(encoding="utf-8"))

NAMED_KINDS: frozenset[str] = frozenset(_DATA["named_kinds"])
PLACE_WORDS: frozenset[str] = frozenset(_DATA["place_words"])
THING_NOUNS: tuple[str, ...] = tuple(_DATA["thing_nouns"])
OPPOSITES: dict[str, frozenset[str]] = {stem: frozenset(words) for stem, words in _DATA["opposites"].items()}
