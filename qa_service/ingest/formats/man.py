"""Man pages from their roff source (``tar.1``, ``sshd_config.5.gz``), rendered by mandoc.

mandoc (Debian's ``mandoc`` package) renders the source to HTML that keeps a page's structure: its sections
and subsections as headings, each option or keyword as a term with its description, examples as code, and
paragraphs whole (a line of the source is never a paragraph of its own). The HTML loader reads that; the
page's title is its NAME line ("tar — an archiving utility"), not the header row ("TAR(1) GNU TAR Manual").
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import subprocess
from typing import ClassVar

from qa_service.errors import UnsupportedDocumentError
from qa_service.ingest.formats.base import LoadedFile, Loader, LoadLimits
from qa_service.ingest.formats.html import HtmlLoader
from qa_service.ingest.formats.mantext import as_page
from qa_service.ingest.formats.text import decode_text

SECTIONS = tuple(f".{n}" for n in range(1, 10))
_GZIP = b"\x1f\x8b"
_MAX_SOURCE = 20_000_000  # bytes of roff once unpacked: the largest man pages (bash, perl's) are under 1 MB
_RENDER_SECONDS = 60
_MAX_TAG = 120  # characters of an option's tag line ("SUB_GID_MIN (number), SUB_GID_MAX (number), ...")
# mandoc's own page furniture: the header and footer rows around the text.
_HEAD_FOOT = re.compile(r'<table class="(?:head|foot)">.*?</table>', re.S)


def is_man_page_name(filename: str) -> bool:
    """``tar.1.gz``, ``openssl.1ssl.gz``, ``x.man.gz``: a gzipped man page by its name."""
    return re.search(r"\.(?:[1-9][a-z]*|man)\.gz$", filename.lower()) is not None


class ManLoader(Loader):
    suffixes = (*SECTIONS, ".man", ".gz")  # .gz: a gzipped man page (tar.1.gz), as /usr/share/man holds them
    label = "man pages (.1-.9, .man, gzipped: tar.1.gz)"
    media_type = "text/troff"
    binary = True  # gzipped or not: checked by ``sniff``
    description: ClassVar[str] = (
        "man pages from their roff source, gzipped or not (`*.1`-`*.9`, `.man`), rendered by mandoc: sections "
        "as headings, each option as a term with its description, the title from the NAME line"
    )

    def sniff(self, data: bytes, filename: str) -> None:
        if filename.lower().endswith(".gz"):
            if not is_man_page_name(filename):
                raise UnsupportedDocumentError(
                    f"{filename}: only gzipped man pages (name.N.gz) are read", code="unsupported_type"
                )
            if not data.startswith(_GZIP):
                raise UnsupportedDocumentError(f"{filename}: not gzip data", code="broken_document")
            return
        decode_text(data[:65536], filename)

    def load(self, data: bytes, filename: str, limits: LoadLimits) -> LoadedFile:
        self.sniff(data, filename)
        source = _gunzip(data, filename) if data.startswith(_GZIP) else data
        rendered = _tagged_paragraphs(_HEAD_FOOT.sub("", _render(source, filename)))
        loaded = HtmlLoader().load(rendered.encode("utf-8"), filename + ".html", limits)
        blocks, title = as_page(loaded.pages[0])  # the name as the root of every heading path, NAME as title
        return LoadedFile([blocks], title or loaded.title, self.media_type)


def _tagged_paragraphs(html: str) -> str:
    """Pages written in DocBook (useradd, login.defs, systemd's) tag an option with a paragraph and indent
    its description under it (``.PP`` then ``.RS``), which mandoc writes as a short ``<p>`` followed by an
    indented ``<div>``; they become the term and description that ``.TP`` pages get (``<dt>``, ``<dd>``)."""
    from bs4 import BeautifulSoup
    from bs4.element import Tag

    if 'class="Bd-indent"' not in html:
        return html
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all("p", class_="Pp"):
        indented = tag.find_next_sibling()
        label = " ".join(tag.get_text(" ").split())
        if (
            not isinstance(indented, Tag)
            or indented.name != "div"
            or "Bd-indent" not in (indented.get("class") or [])
            or not label
            or len(label) > _MAX_TAG
            or label.endswith((".", ":", ";", ","))
        ):
            continue
        tag.name, indented.name = "dt", "dd"
        del tag["class"], indented["class"]
        listing = soup.new_tag("dl")
        tag.insert_before(listing)
        listing.append(tag.extract())
        listing.append(indented.extract())
    return str(soup)


def _gunzip(data: bytes, filename: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as unpacked:
            source = unpacked.read(_MAX_SOURCE + 1)
    except (OSError, EOFError) as exc:
        raise UnsupportedDocumentError(f"{filename}: broken gzip data ({exc})", code="broken_document") from None
    if len(source) > _MAX_SOURCE:
        raise UnsupportedDocumentError(
            f"{filename}: unpacks to over {_MAX_SOURCE} bytes; not a man page", code="document_too_large"
        )
    return source


def _render(source: bytes, filename: str) -> str:
    mandoc = shutil.which("mandoc")
    if mandoc is None:
        raise UnsupportedDocumentError(
            f"{filename}: reading man pages needs mandoc (apt-get install mandoc)", code="unsupported_type"
        )
    try:
        done = subprocess.run(
            [mandoc, "-Thtml", "-Ofragment"], input=source, capture_output=True, timeout=_RENDER_SECONDS
        )
    except subprocess.TimeoutExpired:
        raise UnsupportedDocumentError(f"{filename}: mandoc did not finish", code="too_complex") from None
    html = done.stdout.decode("utf-8", errors="replace")
    if done.returncode > 3 or not html.strip():  # 2 and 3: warnings and errors mandoc recovered from
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise UnsupportedDocumentError(
            f"{filename}: not a readable man page ({message[0][:200]})", code="broken_document"
        )
    return html
