"""Named eval corpora: the files each dataset's ``corpus`` field refers to."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evals.corpora.python_docs import CORPUS_NAME as PYTHON_DOCS
from evals.corpora.python_docs import corpus_files as python_docs_files

SEEDS_DIR = Path(__file__).resolve().parent.parent.parent / "seeds"


def _seed_files() -> list[Path]:
    return sorted(p for p in SEEDS_DIR.iterdir() if p.is_file())


CORPORA: dict[str, Callable[[], list[Path]]] = {"seeds": _seed_files, PYTHON_DOCS: python_docs_files}


def corpus_files(name: str) -> list[Path]:
    """The source files of a named corpus; a clear error for an unknown name."""
    if name not in CORPORA:
        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(sorted(CORPORA))}")
    return CORPORA[name]()


def collection_for(corpus: str) -> str:
    """The collection an eval run indexes a corpus into."""
    return f"eval-{corpus}"
