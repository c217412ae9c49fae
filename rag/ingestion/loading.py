"""Load articles from files into `Document`s.

Supported: .txt and .md (the decoded file is the text), .html/.htm (main
text extracted with trafilatura), .pdf (page text extracted with pypdf,
pages joined by a blank line). Every format then goes through the same
boilerplate filter (`rag.ingestion.boilerplate.content_sections`), so sections hold
article content only.

Anything that cannot be loaded raises `LoadError` with a one-line message
naming the file; `load_folder` turns those into warnings and loads the rest.
Text is never decoded by guessing: a text file must be UTF-8 (a UTF-8 BOM is
dropped from `Document.text`, so offsets point past it).

Document ids: `doc_id` is the file name without its extension. In a folder
where two files share a name stem, the first (shallowest, then by path)
keeps the stem and later ones get their relative path without the extension
("sub/report"), or with it ("sub/report.md") if even that is taken.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
from pathlib import Path

import pypdf
import trafilatura

from rag.core.collection_info import COLLECTION_FILE
from rag.core.errors import LoadError
from rag.core.records import Document
from rag.ingestion.boilerplate import HeaderInfo, content_sections, fallback_title
from rag.ingestion.definitions import defined_in_html
from rag.ingestion.marked import marked_in_html, marked_in_markdown
from rag.ingestion.pages import page_text

# Bump when extraction changes what text a file yields: the manifest records it,
# and a change re-ingests everything (raw-byte hashes alone would miss it).
LOADER_VERSION = "12-title-line"

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".pdf"})
TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# HTML may declare its encoding; honouring the declaration is not guessing.
_HTML_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_HTML_TAG = re.compile(r"<\s*[A-Za-z!/]")
_PDF_MAGIC_WINDOW = 1024


def load_document(path: str | Path) -> Document:
    """Load one supported file as a `Document` whose sections hold article content."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(path, f"unsupported file type {suffix or '(no extension)'!r}")
    data = _read_bytes(path)
    if not data:
        raise LoadError(path, "empty file")
    marked: tuple[tuple[int, int], ...] = ()
    defined: tuple[tuple[int, int, int], ...] = ()
    if suffix in TEXT_SUFFIXES:
        text, meta_title, meta_date = _decode_text(path, data), None, None
        if suffix == ".md":
            marked = marked_in_markdown(text)
    elif suffix in HTML_SUFFIXES:
        text, meta_title, meta_date, marked, defined = _extract_html(path, data)
    else:
        text, meta_title, meta_date = _extract_pdf(path, data)
    sections, header = content_sections(text)
    if not sections:
        raise LoadError(path, "no article content after removing boilerplate")
    return Document(
        doc_id=path.stem,
        path=str(path),
        text=text,
        title=_choose_title(meta_title, header, text, sections),
        date=meta_date or header.date,
        sections=tuple(sections),
        content_hash=hashlib.sha256(data).hexdigest(),
        marked=marked,
        defined=defined,
    )


def load_folder(folder: str | Path) -> tuple[list[Document], list[str]]:
    """Load every supported file under `folder`, skipping bad ones.

    Returns the documents sorted by doc_id and one warning per skipped file.
    Hidden files and folders are ignored, and so is the collection's
    `collection.toml` (rag/core/collection_info.py). Raises LoadError when the folder
    is missing, not a directory, or yields no document at all.
    """
    folder = Path(folder)
    if not folder.exists():
        raise LoadError(folder, "folder does not exist")
    if not folder.is_dir():
        raise LoadError(folder, "not a directory")
    files = [f for f in _visible_files(folder) if f != folder / COLLECTION_FILE]  # its description, not a document
    supported = [f for f in files if f.suffix.lower() in SUPPORTED_SUFFIXES]
    if not supported:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise LoadError(folder, f"no supported documents ({kinds})")
    warnings = [
        f"skipped {f}: unsupported file type {f.suffix or '(no extension)'!r}"
        for f in files
        if f.suffix.lower() not in SUPPORTED_SUFFIXES
    ]
    documents: list[Document] = []
    for path, doc_id in _assign_doc_ids(folder, supported).items():
        try:
            document = load_document(path)
        except LoadError as error:
            warnings.append(f"skipped {error}")
            continue
        documents.append(_with_doc_id(document, doc_id))
    if not documents:
        raise LoadError(folder, f"no loadable documents ({len(warnings)} files skipped)")
    documents.sort(key=lambda d: d.doc_id)
    return documents, warnings


# --- Reading and decoding. ------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The raw file; IO and permission problems become LoadError."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise LoadError(path, f"cannot read file ({error.strerror or error})") from error


def _decode_text(path: Path, data: bytes) -> str:
    """Strict UTF-8 (BOM dropped); binary data and other encodings are refused."""
    if data.startswith(_UTF16_BOMS):
        raise LoadError(path, "not UTF-8 text (UTF-16 byte order mark)")
    if b"\x00" in data:
        raise LoadError(path, "binary file, not text (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start]
        raise LoadError(
            path, f"not UTF-8 text (invalid byte 0x{bad:02x} at offset {error.start})"
        ) from error


def _decode_html(path: Path, data: bytes) -> str:
    """UTF-8, or the charset the page itself declares; never a guess."""
    try:
        return _decode_text(path, data)
    except LoadError as utf8_error:
        declared = _HTML_CHARSET.search(data[:4096])
        if declared is None or b"\x00" in data:
            raise
        charset = declared.group(1).decode("ascii")
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise LoadError(path, f"not valid {charset} text as the page declares") from utf8_error


# --- Extraction. ----------------------------------------------------------


_HIDDEN_STYLE = re.compile(r"(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.I)


def _visible_tree(html: str):
    """The parsed page without elements a reader never sees (display:none, `hidden`, aria-hidden),
    without the bars linking to the pages around it and without permalinks; None where lxml
    cannot parse it.

    Hidden text is where prompt injections hide ("ignore previous
    instructions..."); what a person cannot read on the page should not reach
    the index or the model either. Markup lxml cannot parse is left to
    trafilatura, which reports it.
    """
    try:
        root = _parsed(html)
    except Exception:  # noqa: BLE001 - empty or unparsable: trafilatura decides
        return None
    hidden = [
        element
        for element in root.xpath("//*[@hidden or @aria-hidden='true' or @style]")
        if element.get("hidden") is not None
        or element.get("aria-hidden") == "true"
        or _HIDDEN_STYLE.search(element.get("style") or "")
    ] + _navigation_bars(root) + _permalinks(root)
    for element in hidden:
        if element.getparent() is not None:
            element.drop_tree()
    return root


# A link to a place on its own page whose whole text is one sign: the permalink a generated page
# puts after each heading and definition (Sphinx's and MkDocs' "¶", others' "#" or "§").
_PERMALINK_TEXT = re.compile(r"[^\w\s]")


def _permalinks(root) -> list:
    return [
        a for a in root.xpath("//a[starts-with(@href, '#')]") if _PERMALINK_TEXT.fullmatch(a.text_content().strip())
    ]


def _as_blocks(root) -> str:
    """The page's markup for the extractor: line breaks in a paragraph are spaces, as a browser
    shows them, and each description of a definition list, and each footnote, is a block.

    The extractor keeps a source's line breaks, which would end a sentence
    mid-clause. It writes a definition list as a bulleted list, each item on one
    line: the paragraphs and code of a description would run into one sentence;
    as blocks, each keeps its own lines. It drops every aside, the page's
    footnotes among them (ARIA's note roles): they are content.
    """
    from copy import deepcopy

    from lxml import html as lxml_html

    copy = deepcopy(root)
    for element in copy.iter(*_AS_BLOCK):
        element.tag = _AS_BLOCK[element.tag]
    for note in [e for e in copy.iter() if e.get("role") in _NOTE_ROLES]:
        for element in (note, *note.iterancestors("aside")):
            element.tag = "section"
    for paragraph in copy.iter("p"):
        _unbroken(paragraph)
    return lxml_html.tostring(copy, encoding="unicode")


# A term as a heading over its description: as a list item the extractor moves a nested list's terms
# away from their descriptions, as a paragraph it drops a link-dense one (so too a description).
_AS_BLOCK = {"dl": "div", "dt": "h6", "dd": "section"}
_NOTE_ROLES = frozenset({"note", "doc-footnote", "doc-endnote", "doc-endnotes"})
_LINE_BREAK = re.compile(r"[ \t]*[\r\n]+[ \t]*")


def _unbroken(paragraph) -> None:
    """A paragraph's line breaks as spaces, but for those around it (the extractor's block breaks)."""
    slots = list(_text_slots(paragraph))
    for i, (element, slot) in enumerate(slots):
        head, body, rest = _SPACED.fullmatch(getattr(element, slot)).groups()
        head = head if i == 0 else _LINE_BREAK.sub(" ", head)
        rest = rest if i == len(slots) - 1 else _LINE_BREAK.sub(" ", rest)
        setattr(element, slot, head + _LINE_BREAK.sub(" ", body) + rest)


_SPACED = re.compile(r"(\s*)(.*?)(\s*)", re.S)


def _text_slots(element):
    """Where an element's text is, in reading order, as (element, "text" or "tail"); not in <pre>."""
    if element.tag == "pre":
        return
    if element.text:
        yield element, "text"
    for child in element:
        yield from _text_slots(child)
        if child.tail:
            yield child, "tail"


_NAVIGATION_RELS = frozenset({"prev", "previous", "next", "up", "index", "contents", "start", "first", "last"})
_BLOCKS = frozenset({"p", "div", "li", "td", "th", "tr", "table", "header", "footer", "nav"})
NAVIGATION_PROSE_WORDS = 6  # words outside its links a navigation bar may hold ("Previous:", "Up:")


def _navigation_bars(root) -> list:
    """The blocks that only link to the pages around this one, told by HTML's link relations
    (`rel="prev"`, "next", "up", "index"): a generated manual's "Previous: X, Up: Y [Index]" bar.
    A paragraph holding such a link among more words of its own is content and stays."""
    bars = []
    for link in root.xpath("//a[@rel]"):
        if not set(link.get("rel", "").lower().split()) & _NAVIGATION_RELS:
            continue
        block = next((a for a in link.iterancestors() if a.tag in _BLOCKS), None)
        if block is None or any(block is b for b in bars):
            continue
        linked = sum(len(a.text_content().split()) for a in block.iter("a"))
        if len(block.text_content().split()) - linked <= NAVIGATION_PROSE_WORDS:
            bars.append(block)
    return bars


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _parsed(html: str):
    """The page's element tree (lxml refuses a str that still carries an XML encoding declaration)."""
    from lxml import html as lxml_html

    return lxml_html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))


def _extract_html(path: Path, data: bytes) -> tuple[str, str | None, str | None, tuple, tuple]:
    """Main text of an HTML page, the title and date from its metadata, the spans it marks as code
    and the terms it defines."""
    html = _decode_html(path, data)
    if not _HTML_TAG.search(html):
        raise LoadError(path, "no HTML markup found (corrupt or not an HTML page)")
    root = _visible_tree(html)
    visible = _as_blocks(root) if root is not None else html
    try:
        text = trafilatura.extract(visible, output_format="txt", include_comments=False, with_metadata=False)
        metadata = trafilatura.extract_metadata(html)
    except Exception as error:  # noqa: BLE001 - trafilatura/lxml raise varied errors on bad markup
        raise LoadError(path, f"corrupt HTML ({type(error).__name__}: {error})") from error
    if not text or not text.strip():
        raise LoadError(path, "no article text found in HTML page")
    text = _unwrap(text)
    title = _page_title(_clean(metadata.title) if metadata is not None else None, root)
    date = _iso_date(metadata.date) if metadata is not None else None
    if root is None:
        return text, title, date, (), ()
    return text, title, date, marked_in_html(root, text), defined_in_html(root, text)


def _page_title(extracted: str | None, root) -> str | None:
    """The extractor's title, unless the page's own <title> does not hold it.

    trafilatura may take a heading inside the page for its title: a manual's
    "Note" or "Warning" box. The <title> element names the page; a headline
    the extractor found inside it ("Headline | Site") is the cleaner of the two.
    """
    page = _clean(root.findtext(".//title")) if root is not None else None
    if page and (not extracted or extracted.casefold() not in page.casefold()):
        return page
    return extracted


_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_WRAPPED = re.compile(r"(?<=\S)\n[ \t]+(?=\S)")


def _unwrap(text: str) -> str:
    """Undo the source's hard wrapping that the extractor keeps: an indented line continues the last.

    In HTML a line break inside a paragraph is a space; left in, it would end a
    sentence mid-clause (manuals' source files wrap every paragraph) and cut a
    definition from the term it defines.
    """
    return _WRAPPED.sub(" ", _TRAILING_SPACE.sub("\n", text))


def _extract_pdf(path: Path, data: bytes) -> tuple[str, str | None, str | None]:
    """Text of all pages joined by a blank line, without their furniture (rag/ingestion/pages.py),
    plus the title from PDF metadata.

    The PDF's creation date is when the file was made, not when the article
    was published, so the date comes from the text header only.
    """
    if b"%PDF-" not in data[:_PDF_MAGIC_WINDOW]:
        raise LoadError(path, "not a PDF file (no %PDF header)")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(path, "encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = _clean(reader.metadata.title) if reader.metadata else None
    except LoadError:
        raise
    except Exception as error:  # noqa: BLE001 - pypdf raises many error types on damaged files
        raise LoadError(path, f"corrupt PDF ({type(error).__name__}: {error})") from error
    text = page_text(pages)
    if not text.strip():
        raise LoadError(path, "PDF has no extractable text")
    return text, title, None


# --- Metadata. ------------------------------------------------------------


def _choose_title(
    meta_title: str | None, header: HeaderInfo, text: str, sections: list[tuple[int, int]]
) -> str:
    """File metadata first (it names the title explicitly), then the header, then the first sentence."""
    return meta_title or header.title or fallback_title(text, sections)


def _clean(value: object) -> str | None:
    """A metadata string with whitespace collapsed, or None when blank."""
    if not isinstance(value, str):
        return None
    cleaned = " ".join(value.split())
    return cleaned or None


def _iso_date(value: str | None) -> str | None:
    """The YYYY-MM-DD part of a metadata date."""
    if value and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return value[:10]
    return None


# --- Folders. -------------------------------------------------------------


def _visible_files(folder: Path) -> list[Path]:
    """Files under `folder`, recursively, leaving out hidden files and folders."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _assign_doc_ids(folder: Path, files: list[Path]) -> dict[Path, str]:
    """Stems as ids; on a clash, later files use their relative path (see module docstring)."""
    ids: dict[Path, str] = {}
    taken: set[str] = set()
    ordered = sorted(files, key=lambda f: (len(f.relative_to(folder).parts), f.as_posix()))
    for path in ordered:
        relative = path.relative_to(folder)
        for candidate in (path.stem, relative.with_suffix("").as_posix(), relative.as_posix()):
            if candidate not in taken:
                break
        taken.add(candidate)
        ids[path] = candidate
    return ids


def _with_doc_id(document: Document, doc_id: str) -> Document:
    """The same document under the id assigned by its folder."""
    if document.doc_id == doc_id:
        return document
    return dataclasses.replace(document, doc_id=doc_id)
