"""Sentences that open by referring back ("It is January 1, 1970, 00:00:00 (UTC) on all platforms.", "This
file contains ..."): alone they do not say what they are about; with the sentence right before them, in the
same block, they do. So the ranker reads them with that sentence (its terms count as context, like a
heading's, and the pair is compared with the question in meaning), and an extractive answer quotes the
two together."""

from __future__ import annotations

import re
from typing import Protocol

_REFERS_BACK = re.compile(r"^(?:this|these|it|they|its|their|such)\b", re.I)
MAX_GAP = 2  # characters between two sentences that follow each other in a block: a space, a line break


class Placed(Protocol):
    """A sentence of a document: its text, span, and the end of the block holding its last character."""

    @property
    def text(self) -> str: ...
    @property
    def document_id(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def block_end(self) -> int | None: ...


def refers_back(text: str) -> bool:
    """Does the sentence open by referring to the one before ("This file contains ...")?"""
    return bool(_REFERS_BACK.match(text))


def next_in_block(before: Placed, after: Placed) -> bool:
    """Is ``after`` the very next sentence of ``before``'s block (only the space between them)?"""
    return (
        before.document_id == after.document_id
        and before.block_end is not None
        and before.block_end == after.block_end
        and 0 <= after.start - before.end <= MAX_GAP
    )


def follows(before: Placed, after: Placed) -> bool:
    """Does ``after`` refer back to ``before``, the sentence right before it in its block?"""
    return refers_back(after.text) and next_in_block(before, after)
