"""Named eval corpora: real documents read in place from Debian packages (never copied into the repo).

One table, ``CORPORA``: each entry says which package ships the files, what kind of document it is, its
licence, and how to list its files in a stable order. ``make system-deps`` installs the packages.
Files Debian ships gzip-compressed (Markdown, plain text) are unpacked once into ``CORPUS_CACHE``.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
SEEDS_DIR = REPO_ROOT / "seeds"
CORPUS_CACHE = Path(os.environ.get("QA_EVAL_CORPUS_CACHE", REPO_ROOT / ".data" / "eval-corpora"))


@dataclass(frozen=True, slots=True)
class Corpus:
    name: str
    kind: str  # what a team would call it: news article, PDF manual, HTML manual, Markdown docs, plain text
    package: str | None  # the Debian package that ships it (None: in this repository)
    licence: str
    list_files: Callable[[], list[Path]]

    def files(self) -> list[Path]:
        return self.list_files()


def _require(path: Path, package: str) -> Path:
    if not path.exists():
        raise RuntimeError(f"{path} not found: install Debian's {package} package (`make system-deps`)")
    return path


def _seed_files() -> list[Path]:
    return sorted(p for p in SEEDS_DIR.iterdir() if p.is_file())


ADVERSARIAL_DIR = Path(__file__).resolve().parent / "adversarial"


def _adversarial_files() -> list[Path]:
    return sorted(ADVERSARIAL_DIR.glob("*.txt"))


PYTHON_DOCS_ROOT = Path("/usr/share/doc/python3-doc/html")
_PYTHON_SECTIONS = ("library", "howto", "tutorial")


def _python_docs_files() -> list[Path]:
    """Each section's pages sorted by name; tables of contents and API indexes are not content."""
    root = _require(PYTHON_DOCS_ROOT, "python3-doc")
    files: list[Path] = []
    for section in _PYTHON_SECTIONS:
        pages = sorted(
            p
            for p in (root / section).glob("*.html")
            if p.is_file() and "index" not in p.stem and p.stem not in ("genindex", "search")
        )
        if not pages:
            raise RuntimeError(f"{root / section} holds no HTML pages; reinstall python3-doc")
        files.extend(pages)
    return files


R_INTRO_PDF = Path("/usr/share/R/doc/manual/R-intro.pdf")


def _r_intro_files() -> list[Path]:
    return [_require(R_INTRO_PDF, "r-doc-pdf")]


GETTEXT_ROOT = Path("/usr/share/doc/gettext")


def _gettext_files() -> list[Path]:
    """The manual's numbered chapters (gettext_1.html ... gettext_30.html), in chapter order; the table of
    contents, footnote and "about" pages are left out."""
    root = _require(GETTEXT_ROOT / "gettext_1.html", "gettext-doc").parent
    chapters = [p for p in root.glob("gettext_*.html") if p.stem.split("_")[1].isdigit()]
    return sorted(chapters, key=lambda p: int(p.stem.split("_")[1]))


NODE_API_ROOT = Path("/usr/share/doc/nodejs/api")
# A fixed sample of the Node.js 18 API reference (the whole set is 3.2 MB); chosen by size and spread of
# topics before any question was written, not by how well the service answers on them.
NODE_API_MODULES = (
    "child_process", "cluster", "console", "dgram", "dns", "events", "os", "path", "querystring", "readline",
    "timers", "tty", "url", "worker_threads", "zlib",
)  # fmt: skip


def _unpacked(name: str, sources: list[Path]) -> list[Path]:
    """Gunzip ``sources`` into the corpus cache (once; rewritten when the package's file changed)."""
    folder = CORPUS_CACHE / name
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for source in sources:
        target = folder / source.name.removesuffix(".gz")
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            data = gzip.decompress(source.read_bytes())
            tmp = target.with_suffix(f"{target.suffix}.{os.getpid()}.tmp")  # two processes may unpack at once
            tmp.write_bytes(data)
            tmp.replace(target)
        out.append(target)
    return out


def _node_api_files() -> list[Path]:
    sources = [_require(NODE_API_ROOT / f"{m}.md.gz", "nodejs-doc") for m in NODE_API_MODULES]
    return _unpacked("node-api", sources)


FHS_TXT = Path("/usr/share/doc/debian-policy/fhs/fhs-3.0.txt.gz")


def _fhs_files() -> list[Path]:
    return _unpacked("fhs", [_require(FHS_TXT, "debian-policy")])


# Man pages a sysadmin team reads, from packages that neither the training corpus nor an independent check
# uses (evals/training/documents.py excludes them), read as Debian ships them: gzipped roff, through mandoc.
MAN_PAGES = {
    "less": Path("/usr/share/man/man1/less.1.gz"),
    "xz-utils": Path("/usr/share/man/man1/xz.1.gz"),
    "wget": Path("/usr/share/man/man1/wget.1.gz"),
    "passwd": Path("/usr/share/man/man8/useradd.8.gz"),
    "login": Path("/usr/share/man/man5/login.defs.5.gz"),
}


def _man_page_files() -> list[Path]:
    return [_require(path, package) for package, path in MAN_PAGES.items()]


CORPORA: dict[str, Corpus] = {
    c.name: c
    for c in (
        Corpus("seeds", "news analysis article", None, "see seeds/", _seed_files),
        Corpus("adversarial", "hostile documents: spoofed delimiters, fake markers, instructions (issue 16)", None,
               "written for this repo", _adversarial_files),
        Corpus("python-docs", "HTML manual (Python 3.11 library, HOWTOs, tutorial)", "python3-doc",
               "PSF License", _python_docs_files),
        Corpus("r-intro", "PDF manual (An Introduction to R, 4.2.2)", "r-doc-pdf",
               "verbatim copying permitted (R Core Team); package GPL-2+", _r_intro_files),
        Corpus("gettext", "HTML manual (GNU gettext 0.21, texinfo, 30 chapters)", "gettext-doc",
               "GNU FDL 1.2+ (no invariant sections)", _gettext_files),
        Corpus("node-api", "Markdown documentation (Node.js 18 API, 15 modules)", "nodejs-doc",
               "MIT (Node.js)", _node_api_files),
        Corpus("fhs", "plain-text specification (Filesystem Hierarchy Standard 3.0, hard-wrapped)", "debian-policy",
               "verbatim copying and distribution permitted (LSB workgroup)", _fhs_files),
        Corpus("man-pages", "man pages (less, xz, wget, useradd, login.defs; gzipped roff)",
               ", ".join(MAN_PAGES), "each package's own (GPL-2+/GPL-3+, BSD-2/3, public domain)", _man_page_files),
    )
}  # fmt: skip


def corpus_files(name: str) -> list[Path]:
    """The source files of a named corpus; a clear error for an unknown name."""
    if name not in CORPORA:
        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(sorted(CORPORA))}")
    return CORPORA[name].files()


def collection_for(corpus: str) -> str:
    """The collection an eval run indexes a corpus into."""
    return f"eval-{corpus}"
