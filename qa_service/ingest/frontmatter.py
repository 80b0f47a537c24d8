"""Markdown front matter (a YAML block between ``---`` lines at the top) as document metadata.

Only the simple form is read: ``key: value`` lines, with lists as ``[a, b]`` or ``- item`` lines. That
covers what static-site generators write for ``title``, ``tags`` and dates without a YAML dependency
at run time; anything else in the block is kept as a string.
"""

from __future__ import annotations

import re

from qa_service.domain import MetadataValue

_BLOCK = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
LIST_KEYS = ("tags", "keywords", "categories")


def split_front_matter(text: str) -> tuple[dict[str, MetadataValue], str]:
    """(metadata, body) of a Markdown text; ``({}, text)`` when it has no front matter. ``keywords`` and
    ``categories`` count as tags, the filterable list."""
    match = _BLOCK.match(text)
    if match is None:
        return {}, text
    meta: dict[str, MetadataValue] = {}
    key: str | None = None
    for line in match.group(1).splitlines():
        item = re.match(r"^\s+-\s+(.*)$|^-\s+(.*)$", line)
        if item and key is not None:
            value = _unquote(item.group(1) or item.group(2) or "")
            previous = meta.get(key)
            meta[key] = [*previous, value] if isinstance(previous, list) else [value]
            continue
        found = _KEY.match(line)
        if found is None:
            continue
        key, raw = found.group(1).lower(), found.group(2).strip()
        if raw.startswith("[") and raw.endswith("]"):
            meta[key] = [_unquote(v) for v in raw[1:-1].split(",") if v.strip()]
        elif raw:
            meta[key] = _unquote(raw)
    tags: list[str] = []
    for name in LIST_KEYS:
        found_tags = meta.pop(name, [])
        tags += found_tags if isinstance(found_tags, list) else [str(found_tags)]
    if tags:
        meta["tags"] = list(dict.fromkeys(t for t in tags if t))
    return meta, text[match.end() :]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
