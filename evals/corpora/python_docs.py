"""The ``python-docs`` eval corpus: HTML pages of Debian's ``python3-doc`` package, read in place.

The pages are not copied into the repository. ``evals/datasets/python_docs.jsonl`` was written against
``python3.11-doc`` 3.11.2 (Debian 12); another documentation version may move or reword its evidence.
"""

from __future__ import annotations

from pathlib import Path

CORPUS_NAME = "python-docs"

DOCS_ROOT = Path("/usr/share/doc/python3-doc/html")
# Sections taken whole, in this order; every page in them except index-like pages.
_SECTIONS = ("library", "howto", "tutorial")


def _is_index_page(path: Path) -> bool:
    """Tables of contents and API indexes (``index.html``, ``asyncio-api-index.html``, ...) are not content."""
    return "index" in path.stem or path.stem in ("genindex", "search")


def corpus_files(root: Path = DOCS_ROOT) -> list[Path]:
    """The corpus pages in a stable order: each section's ``*.html`` sorted by file name."""
    if not root.is_dir():
        raise RuntimeError(
            f"{root} not found: the python-docs corpus needs Debian's python3-doc package; "
            "install it with `apt-get install python3-doc`"
        )
    files: list[Path] = []
    for section in _SECTIONS:
        pages = sorted(p for p in (root / section).glob("*.html") if p.is_file() and not _is_index_page(p))
        if not pages:
            raise RuntimeError(f"{root / section} holds no HTML pages; reinstall with `apt-get install python3-doc`")
        files.extend(pages)
    return files
