"""The training corpus's documents: real files read in place from Debian packages that no eval suite reads.

One table, ``DOCUMENTS``. Each entry names the package that ships the file, the kind of document a team
would call it, its licence, how it is read and which split it belongs to. The split is by document and was
fixed in this table before any question was written: the last two documents of each kind in the first
round, and the last of each kind in the second, are validation documents (model selection); training never
sees them.

Files are read in place. Three preparations write a copy into ``TRAINING_CACHE`` first, as the eval corpora
do for gzip: ``gunzip``; ``rename`` (a file whose suffix the loaders do not know, e.g. Sphinx's
``examples.md.txt`` or ``debian-manifesto``, copied under the suffix of what it is); and ``roff``, a man
page's source rendered by Debian's groff as ``man`` prints it, with lines unwrapped (until man pages are a
format of their own, issue 38).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evals.corpora import REPO_ROOT

TRAINING_CACHE = Path(os.environ.get("QA_TRAINING_CORPUS_CACHE", REPO_ROOT / ".data" / "training-corpus"))

Kind = Literal["man page", "HTML manual", "Markdown docs", "PDF manual", "plain-text specification", "long prose"]
Prepare = Literal["none", "gunzip", "rename", "roff"]
Split = Literal["train", "validation"]

# Packages no training document may come from: the eval corpora, and those kept for independent checks.
EXCLUDED_PACKAGES = frozenset(
    {"python3-doc", "r-doc-pdf", "gettext-doc", "nodejs-doc", "debian-policy", "debian-handbook",
     "shared-mime-info", "libtasn1-doc", "openssh-client", "openssh-server", "rsync", "cron", "systemd",
     "needrestart", "postgresql-common", "containerd", "base-passwd",
     "less", "xz-utils", "wget", "passwd", "login"}  # the man-pages eval corpus (evals/corpora)
)  # fmt: skip
EXCLUDED_PREFIXES = ("debian-reference",)


@dataclass(frozen=True, slots=True)
class TrainingDocument:
    name: str  # the document's id in the training data, e.g. "man-tar"
    package: str
    kind: Kind
    licence: str
    path: Path  # the file as the package installs it
    prepare: Prepare = "none"
    suffix: str = ""  # for "rename": the suffix the copy gets
    split: Split = "train"

    def file(self) -> Path:
        """The file ingestion reads (prepared into the cache when needed)."""
        if not self.path.exists():
            raise RuntimeError(f"{self.path} not found: install Debian's {self.package} package (`make train-deps`)")
        if self.prepare == "none":
            return self.path
        TRAINING_CACHE.mkdir(parents=True, exist_ok=True)
        # Named after the document: several packages ship a README.md.
        suffix = {"gunzip": Path(self.path.name.removesuffix(".gz")).suffix, "rename": self.suffix, "roff": ".txt"}
        target = TRAINING_CACHE / f"{self.name}{suffix[self.prepare]}"
        if target.exists() and target.stat().st_mtime >= self.path.stat().st_mtime:
            return target
        raw = self.path.read_bytes()
        if self.path.suffix == ".gz":
            raw = gzip.decompress(raw)
        data = render_man_page(raw) if self.prepare == "roff" else raw
        tmp = target.with_suffix(f"{target.suffix}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        return target


def render_man_page(roff: bytes) -> bytes:
    """A man page as ``man`` prints it, without wrapping: groff's man macros to UTF-8 text, one paragraph a
    line (line length 2000 ens, no hyphenation, no bold/underline overstrikes), indentation and padding removed."""
    groff = shutil.which("groff")
    if groff is None:
        raise RuntimeError("groff not found: install Debian's groff-base package")
    out = subprocess.run(
        [groff, "-t", "-mandoc", "-Tutf8", "-rLL=2000n", "-rHY=0", "-P-cbou"],
        input=roff, capture_output=True, check=True,
    ).stdout.decode("utf-8")  # fmt: skip
    # The header and footer lines are padded to the line length; so are a few tables' columns.
    lines = [re.sub(r" {3,}", "  ", line.strip()) for line in out.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return (text + "\n").encode("utf-8")


MAN = Path("/usr/share/man")
DOC = Path("/usr/share/doc")
_GPL3 = "GPL-3+"


def _man(name: str, package: str, licence: str, path: str, split: Split = "train") -> TrainingDocument:
    return TrainingDocument(name, package, "man page", licence, MAN / path, "roff", split=split)


FIRST_ROUND: tuple[TrainingDocument, ...] = (
    # man pages: roff sources, rendered as `man` prints them
    _man("man-tar", "tar", _GPL3, "man1/tar.1.gz"),
    _man("man-grep", "grep", _GPL3, "man1/grep.1.gz"),
    _man("man-xargs", "findutils", _GPL3, "man1/xargs.1.gz"),
    _man("man-git-commit", "git-man", "GPL-2", "man1/git-commit.1.gz"),
    _man("man-apt-get", "apt", "GPL-2+", "man8/apt-get.8.gz"),
    _man("man-sources-list", "apt", "GPL-2+", "man5/sources.list.5.gz"),
    _man("man-gzip", "gzip", _GPL3, "man1/gzip.1.gz"),
    _man("man-mke2fs", "e2fsprogs", "GPL-2", "man8/mke2fs.8.gz"),
    _man("man-make", "make", _GPL3, "man1/make.1.gz"),
    _man("man-zstd", "zstd", "BSD-3-clause or GPL-2", "man1/zstd.1.gz"),
    _man("man-sed", "sed", _GPL3, "man1/sed.1.gz", "validation"),
    _man("man-fdfind", "fd-find", "MIT or Apache-2.0", "man1/fdfind.1.gz", "validation"),
    # HTML manuals: texinfo (zsh), Sphinx (click, flask, jinja2), DocBook (the Debian FAQ)
    TrainingDocument("html-zsh-redirection", "zsh-doc", "HTML manual", "zsh licence (MIT-like)",
                     DOC / "zsh-common/html/Redirection.html"),
    TrainingDocument("html-zsh-conditional", "zsh-doc", "HTML manual", "zsh licence (MIT-like)",
                     DOC / "zsh-common/html/Conditional-Expressions.html"),
    TrainingDocument("html-click-options", "python-click-doc", "HTML manual", "BSD-3-clause",
                     DOC / "python-click-doc/html/options.html"),
    TrainingDocument("html-click-arguments", "python-click-doc", "HTML manual", "BSD-3-clause",
                     DOC / "python-click-doc/html/arguments.html"),
    TrainingDocument("html-click-commands", "python-click-doc", "HTML manual", "BSD-3-clause",
                     DOC / "python-click-doc/html/commands.html"),
    TrainingDocument("html-flask-config", "python-flask-doc", "HTML manual", "BSD-3-clause",
                     DOC / "python-flask-doc/html/config.html"),
    TrainingDocument("html-flask-blueprints", "python-flask-doc", "HTML manual", "BSD-3-clause",
                     DOC / "python-flask-doc/html/blueprints.html"),
    TrainingDocument("html-debian-faq-pkg-basics", "debian-faq", "HTML manual", "GPL-2+",
                     DOC / "debian/FAQ/pkg-basics.en.html"),
    TrainingDocument("html-debian-faq-uptodate", "debian-faq", "HTML manual", "GPL-2+",
                     DOC / "debian/FAQ/uptodate.en.html"),
    TrainingDocument("html-debian-faq-pkgtools", "debian-faq", "HTML manual", "GPL-2+",
                     DOC / "debian/FAQ/pkgtools.en.html"),
    TrainingDocument("html-zsh-jobs", "zsh-doc", "HTML manual", "zsh licence (MIT-like)",
                     DOC / "zsh-common/html/Jobs-_0026-Signals.html", split="validation"),
    TrainingDocument("html-jinja-sandbox", "python-jinja2-doc", "HTML manual", "BSD-3-clause",
                     DOC / "python-jinja2-doc/html/sandbox.html", split="validation"),
    # Markdown docs
    TrainingDocument("md-apt-acquire-additional-files", "apt-doc", "Markdown docs", "GPL-2+",
                     DOC / "apt/acquire-additional-files.md.gz", "gunzip"),
    TrainingDocument("md-apt-json-hooks", "apt-doc", "Markdown docs", "GPL-2+",
                     DOC / "apt/json-hooks-protocol.md.gz", "gunzip"),
    TrainingDocument("md-apt-solver-protocol", "apt-doc", "Markdown docs", "GPL-2+",
                     DOC / "apt/external-dependency-solver-protocol.md.gz", "gunzip"),
    TrainingDocument("md-apt-planner-protocol", "apt-doc", "Markdown docs", "GPL-2+",
                     DOC / "apt/external-installation-planner-protocol.md.gz", "gunzip"),
    TrainingDocument("md-gorilla-mux", "golang-github-gorilla-mux-dev", "Markdown docs", "BSD-3-clause",
                     DOC / "golang-github-gorilla-mux-dev/README.md.gz", "gunzip"),
    TrainingDocument("md-zstd-readme", "zstd", "Markdown docs", "BSD-3-clause or GPL-2",
                     DOC / "zstd/README.md.gz", "gunzip"),
    TrainingDocument("md-zstd-contributing", "zstd", "Markdown docs", "BSD-3-clause or GPL-2",
                     DOC / "zstd/CONTRIBUTING.md.gz", "gunzip"),
    TrainingDocument("md-attrs-examples", "python-attr-doc", "Markdown docs", "MIT",
                     DOC / "python-attr-doc/html/_sources/examples.md.txt", "rename", ".md"),
    TrainingDocument("md-attrs-init", "python-attr-doc", "Markdown docs", "MIT",
                     DOC / "python-attr-doc/html/_sources/init.md.txt", "rename", ".md"),
    TrainingDocument("md-libjpeg-turbo", "libjpeg62-turbo-dev", "Markdown docs", "IJG and BSD-3-clause",
                     DOC / "libjpeg62-turbo-dev/README.md.gz", "gunzip"),
    TrainingDocument("md-logrus", "golang-github-sirupsen-logrus-dev", "Markdown docs", "MIT",
                     DOC / "golang-github-sirupsen-logrus-dev/README.md.gz", "gunzip", split="validation"),
    TrainingDocument("md-attrs-hashing", "python-attr-doc", "Markdown docs", "MIT",
                     DOC / "python-attr-doc/html/_sources/hashing.md.txt", "rename", ".md", split="validation"),
    # PDF manuals
    TrainingDocument("pdf-latex-usrguide", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/usrguide.pdf"),
    TrainingDocument("pdf-latex-clsguide", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/clsguide.pdf"),
    TrainingDocument("pdf-latex-fntguide", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/fntguide.pdf"),
    TrainingDocument("pdf-latex-cfgguide", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/cfgguide.pdf"),
    TrainingDocument("pdf-latex-modguide", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/modguide.pdf"),
    TrainingDocument("pdf-latex-encguide", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/encguide.pdf"),
    TrainingDocument("pdf-latex-lamport-manual", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/lamport-manual.pdf"),
    TrainingDocument("pdf-asymptote-latex", "asymptote-doc", "PDF manual", "LGPL-3+",
                     DOC / "asymptote/asy-latex.pdf"),
    TrainingDocument("pdf-latex-makeindx", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/makeindx.pdf", split="validation"),
    TrainingDocument("pdf-asymptote-cad", "asymptote-doc", "PDF manual", "LGPL-3+",
                     DOC / "asymptote/CAD.pdf", split="validation"),
    # plain-text specifications
    TrainingDocument("txt-git-format-pack", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitformat-pack.txt"),
    TrainingDocument("txt-git-format-index", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitformat-index.txt"),
    TrainingDocument("txt-git-protocol-v2", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitprotocol-v2.txt"),
    TrainingDocument("txt-git-repository-layout", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitrepository-layout.txt"),
    TrainingDocument("txt-libjpeg-structure", "libjpeg62-turbo-dev", "plain-text specification",
                     "IJG and BSD-3-clause", DOC / "libjpeg62-turbo-dev/structure.txt.gz", "gunzip"),
    TrainingDocument("txt-libjpeg-wizard", "libjpeg62-turbo-dev", "plain-text specification",
                     "IJG and BSD-3-clause", DOC / "libjpeg62-turbo-dev/wizard.txt.gz", "gunzip"),
    TrainingDocument("txt-libpng-manual", "libpng16-16", "plain-text specification", "libpng licence",
                     DOC / "libpng16-16/libpng-manual.txt.gz", "gunzip"),
    TrainingDocument("txt-debian-bug-reporting", "doc-debian", "plain-text specification", "GPL-2+ (doc-debian)",
                     DOC / "debian/bug-reporting.txt.gz", "gunzip"),
    TrainingDocument("txt-debian-bug-mailcontrol", "doc-debian", "plain-text specification",
                     "GPL-2+ (doc-debian)", DOC / "debian/bug-maint-mailcontrol.txt.gz", "gunzip"),
    TrainingDocument("txt-debian-constitution", "doc-debian", "plain-text specification", "GPL-2+ (doc-debian)",
                     DOC / "debian/constitution.txt.gz", "gunzip"),
    TrainingDocument("txt-git-protocol-http", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitprotocol-http.txt", split="validation"),
    TrainingDocument("txt-libjpeg-usage", "libjpeg62-turbo-dev", "plain-text specification",
                     "IJG and BSD-3-clause", DOC / "libjpeg62-turbo-dev/usage.txt.gz", "gunzip", split="validation"),
    # long prose: release notes, announcements, histories, essays and guides
    TrainingDocument("prose-git-2.38-notes", "git", "long prose", "GPL-2", DOC / "git/RelNotes/2.38.0.txt"),
    TrainingDocument("prose-git-2.39-notes", "git", "long prose", "GPL-2", DOC / "git/RelNotes/2.39.0.txt"),
    TrainingDocument("prose-man-db-news", "man-db", "long prose", "GPL-2+", DOC / "man-db/NEWS.md.gz", "gunzip"),
    TrainingDocument("prose-debian-history", "debian-history", "long prose", "GPL-2+",
                     DOC / "debian-history/docs/detailed.en.html"),
    TrainingDocument("prose-debian-releases", "debian-history", "long prose", "GPL-2+",
                     DOC / "debian-history/docs/releases.en.html"),
    TrainingDocument("prose-debian-manifesto", "debian-history", "long prose", "GPL-2+",
                     DOC / "debian-history/debian-manifesto.gz", "rename", ".txt"),
    TrainingDocument("prose-git-my-first-contribution", "git-doc", "long prose", "GPL-2",
                     DOC / "git-doc/MyFirstContribution.txt"),
    TrainingDocument("prose-git-submitting-patches", "git-doc", "long prose", "GPL-2",
                     DOC / "git-doc/SubmittingPatches.txt"),
    TrainingDocument("prose-latex-news-30", "texlive-latex-base-doc", "long prose", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/ltnews30.pdf"),
    TrainingDocument("prose-debian-social-contract", "doc-debian", "long prose", "GPL-2+ (doc-debian)",
                     DOC / "debian/social-contract.txt.gz", "gunzip"),
    TrainingDocument("prose-git-reviewing-guidelines", "git-doc", "long prose", "GPL-2",
                     DOC / "git-doc/ReviewingGuidelines.txt", split="validation"),
    TrainingDocument("prose-latex-news-31", "texlive-latex-base-doc", "long prose", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/ltnews31.pdf", split="validation"),
)  # fmt: skip

# The second round (written after the first learning curve), in the same kinds; the last of each kind is a
# validation document, fixed here before any of its questions was written. (Its PDF validation document, the
# German errata of the LaTeX Companion, was dropped after writing: English questions over a German text are
# not what the reader is for. The round has no PDF validation document of its own.)
_R2 = "second round"
SECOND_ROUND: tuple[TrainingDocument, ...] = (
    _man("man-git-rebase", "git-man", "GPL-2", "man1/git-rebase.1.gz"),
    _man("man-git-push", "git-man", "GPL-2", "man1/git-push.1.gz"),
    _man("man-git-stash", "git-man", "GPL-2", "man1/git-stash.1.gz"),
    _man("man-apt-conf", "apt", "GPL-2+", "man5/apt.conf.5.gz"),
    _man("man-apt-cache", "apt", "GPL-2+", "man8/apt-cache.8.gz"),
    _man("man-tune2fs", "e2fsprogs", "GPL-2", "man8/tune2fs.8.gz", "validation"),
    TrainingDocument("html-zsh-prompt-expansion", "zsh-doc", "HTML manual", "zsh licence (MIT-like)",
                     DOC / "zsh-common/html/Prompt-Expansion.html"),
    TrainingDocument("html-zsh-functions", "zsh-doc", "HTML manual", "zsh licence (MIT-like)",
                     DOC / "zsh-common/html/Functions.html"),
    TrainingDocument("html-click-parameters", "python-click-doc", "HTML manual", "BSD-3-clause",
                     DOC / "python-click-doc/html/parameters.html"),
    TrainingDocument("html-flask-errorhandling", "python-flask-doc", "HTML manual", "BSD-3-clause",
                     DOC / "python-flask-doc/html/errorhandling.html"),
    TrainingDocument("html-debian-faq-choosing", "debian-faq", "HTML manual", "GPL-2+",
                     DOC / "debian/FAQ/choosing.en.html"),
    TrainingDocument("html-debian-faq-ftparchives", "debian-faq", "HTML manual", "GPL-2+",
                     DOC / "debian/FAQ/ftparchives.en.html", split="validation"),
    TrainingDocument("md-attrs-extending", "python-attr-doc", "Markdown docs", "MIT",
                     DOC / "python-attr-doc/html/_sources/extending.md.txt", "rename", ".md"),
    TrainingDocument("md-attrs-why", "python-attr-doc", "Markdown docs", "MIT",
                     DOC / "python-attr-doc/html/_sources/why.md.txt", "rename", ".md"),
    TrainingDocument("md-attrs-names", "python-attr-doc", "Markdown docs", "MIT",
                     DOC / "python-attr-doc/html/_sources/names.md.txt", "rename", ".md"),
    TrainingDocument("md-attrs-types", "python-attr-doc", "Markdown docs", "MIT",
                     DOC / "python-attr-doc/html/_sources/types.md.txt", "rename", ".md"),
    TrainingDocument("md-attrs-how-it-works", "python-attr-doc", "Markdown docs", "MIT",
                     DOC / "python-attr-doc/html/_sources/how-does-it-work.md.txt", "rename", ".md"),
    TrainingDocument("md-attrs-glossary", "python-attr-doc", "Markdown docs", "MIT",
                     DOC / "python-attr-doc/html/_sources/glossary.md.txt", "rename", ".md", split="validation"),
    TrainingDocument("pdf-latex-cyrguide", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/cyrguide.pdf"),
    TrainingDocument("pdf-latex-ltxdoc", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/ltxdoc.pdf"),
    TrainingDocument("pdf-latex-ltx3info", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/ltx3info.pdf"),
    TrainingDocument("pdf-latex-tlc2", "texlive-latex-base-doc", "PDF manual", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/tlc2.pdf"),
    TrainingDocument("txt-git-protocol-pack", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitprotocol-pack.txt"),
    TrainingDocument("txt-git-protocol-capabilities", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitprotocol-capabilities.txt"),
    TrainingDocument("txt-git-format-commit-graph", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitformat-commit-graph.txt"),
    TrainingDocument("txt-git-format-chunk", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitformat-chunk.txt"),
    TrainingDocument("txt-debian-bug-maint-info", "doc-debian", "plain-text specification",
                     "GPL-2+ (doc-debian)", DOC / "debian/bug-maint-info.txt.gz", "gunzip"),
    TrainingDocument("txt-git-format-signature", "git-doc", "plain-text specification", "GPL-2",
                     DOC / "git-doc/gitformat-signature.txt", split="validation"),
    TrainingDocument("prose-git-2.36-notes", "git", "long prose", "GPL-2", DOC / "git/RelNotes/2.36.0.txt"),
    TrainingDocument("prose-git-2.37-notes", "git", "long prose", "GPL-2", DOC / "git/RelNotes/2.37.0.txt"),
    TrainingDocument("prose-git-my-first-object-walk", "git-doc", "long prose", "GPL-2",
                     DOC / "git-doc/MyFirstObjectWalk.txt"),
    TrainingDocument("prose-latex-news-28", "texlive-latex-base-doc", "long prose", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/ltnews28.pdf"),
    TrainingDocument("prose-latex-news-29", "texlive-latex-base-doc", "long prose", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/ltnews29.pdf"),
    TrainingDocument("prose-latex-news-32", "texlive-latex-base-doc", "long prose", "LPPL-1.3c",
                     DOC / "texlive-doc/latex/base/ltnews32.pdf", split="validation"),
)  # fmt: skip

DOCUMENTS = FIRST_ROUND + SECOND_ROUND
BY_NAME = {d.name: d for d in DOCUMENTS}
# The Debian packages `make train` (and the span test) need installed, in the order of the table.
PACKAGES = tuple(dict.fromkeys(d.package for d in DOCUMENTS))


def is_excluded(package: str) -> bool:
    return package in EXCLUDED_PACKAGES or package.startswith(EXCLUDED_PREFIXES)
