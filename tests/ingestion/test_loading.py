"""Tests for loading documents and filtering page boilerplate."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.core.errors import LoadError
from rag.core.records import Document
from rag.ingestion.boilerplate import content_sections, fallback_title, parse_date
from rag.ingestion.loading import SUPPORTED_SUFFIXES, load_document, load_folder
from rag.ingestion.sentences import split_sentences

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus"

PARAGRAPHS = [
    "Troops from both countries began a week of joint exercises on Monday, officials said in a statement.",
    "The drills involve several thousand soldiers, armoured vehicles and aircraft, according to the ministry.",
    "Neighbouring governments said they were monitoring the situation closely and called for restraint.",
]


# --- Helpers. -------------------------------------------------------------


def section_texts(doc: Document) -> list[str]:
    return [doc.text[start:end] for start, end in doc.sections]


def assert_well_formed(text: str, spans) -> None:
    """Ordered, non-overlapping, in bounds, non-empty and stripped."""
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        previous_end = end


def minimal_pdf(lines: list[str], title: str | None = None, pages: list[list[str]] = ()) -> bytes:
    """A small valid PDF of Helvetica text, xref offsets computed: one page of `lines`, or `pages`."""
    texts = list(pages) or [lines]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (4 + 2 * k) for k in range(len(texts))), len(texts)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for k, page in enumerate(texts):
        stream = _page_stream(page)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * k)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    if title is not None:
        objects.append(b"<< /Title (%s) >>" % title.encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    info = b" /Info %d 0 R" % len(objects) if title is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info,
        xref,
    )
    return bytes(out)


def _page_stream(lines: list[str]) -> bytes:
    ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops += [f"({escaped}) Tj", "T*"]
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


@pytest.fixture(scope="module")
def corpus() -> dict[str, Document]:
    documents, warnings = load_folder(CORPUS)
    assert warnings == []
    return {doc.doc_id[:3]: doc for doc in documents}


# --- The real collection. -------------------------------------------------

BOILERPLATE = [
    "Leave a Reply",
    "Your email address will not be published",
    "Related stories",
    "Related Posts",
    "Latest stories",
    "top of page",
    "bottom of page",
    "Views: 6",
    "avg. rating",
    "0 votes",
    "14.1 C",
    "Saturday, July 13, 2024",
    "HomeChina",
    "Source: bulgarianmilitary.com",
    "Source : Asia Times",
    "By: Ahmed Fathi",
    "News World",
    "China Defense",
    # teaser items that follow "Related stories"
    "Putin’s war is the cause of NATO enlargement",
    "Reporting from the NATO summit",
    "Tatyana Shevtsova stole millions",
    "Former Russian Deputy Defense Minister Tatyana Shevtsova, who officially...",
    "Vienna-Based Russian Operatives",
    "The Wall Street Journal, citing sources within Western intelligence...",
    "Europe’s leaders welcome Starmer",
    "Charles Michel hails",
    "Tajikistan Passes Bill",
    "Tajikistan officially banned the hijab",
]


def test_corpus_loads_all_five_files(corpus: dict[str, Document]) -> None:
    assert sorted(corpus) == ["000", "001", "002", "003", "004"]
    for doc in corpus.values():
        assert doc.text == (CORPUS / f"{doc.doc_id}.txt").read_text(encoding="utf-8")
        assert doc.content_hash == hashlib.sha256((CORPUS / f"{doc.doc_id}.txt").read_bytes()).hexdigest()


@pytest.mark.parametrize("snippet", BOILERPLATE)
def test_corpus_boilerplate_is_outside_every_section(corpus: dict[str, Document], snippet: str) -> None:
    for doc in corpus.values():
        for section in section_texts(doc):
            assert snippet not in section, (doc.doc_id, section)


@pytest.mark.parametrize(
    ("key", "paragraph"),
    [
        ("000", "On June 6, a contingent of Chinese military personnel arrived in Belarus"),
        ("000", "The Chinese People’s Liberation Army ground units have commenced"),
        ("000", "according to the ministry."),
        ("001", "In a notable expansion of military partnerships"),
        ("001", "Drone Warfare: Drones have been integral"),
        ("001", "Similarly, Georgia is currently experiencing"),
        ("002", "According to Beijing’s defence ministry"),
        ("002", "Part of Siberia is included in the eastern military district"),
        ("003", "Satellite footage reveals that a significant amount"),
        ("003", "Sviatlana Tsikhanouskaya, who challenged Lukashenko"),
        ("004", "by Chinese Defense Minister Li Shangfu to Russia on April 16-19"),
        ("004", "‘Loudly on the quiet …’"),
        ("004", "A working and"),
    ],
)
def test_corpus_real_paragraphs_are_kept(corpus: dict[str, Document], key: str, paragraph: str) -> None:
    assert any(paragraph in section for section in section_texts(corpus[key]))


def test_corpus_title_is_kept_once(corpus: dict[str, Document]) -> None:
    for doc in corpus.values():
        repeats = [s for s in section_texts(doc) if s.casefold() == doc.title.casefold()]
        assert len(repeats) <= 1, doc.doc_id


def test_corpus_titles_and_dates(corpus: dict[str, Document]) -> None:
    assert corpus["001"].title == (
        "China Deepens Military Cooperation with Belarus: Influence of Russian Warfare Strategies in Ukraine"
    )
    assert corpus["002"].title == "China will send troops to Russia for joint military training"
    assert corpus["003"].title == (
        "Belarusian Military Training Will Begin as Russia Ramps up Tensions with Ukraine"
    )
    assert corpus["004"].title == "China, Russia Circle Wagons in Asia-Pacific"
    assert corpus["004"].date == "2024-07-13"
    assert [corpus[k].date for k in ("000", "001", "002", "003")] == [None] * 4


def test_corpus_title_falls_back_to_first_sentence(corpus: dict[str, Document]) -> None:
    title = corpus["000"].title
    assert title.startswith("The Chinese People’s Liberation Army")
    assert title.endswith("…")
    assert len(title.rstrip("…").split()) <= 12


def test_corpus_header_metadata() -> None:
    _, info_000 = content_sections((CORPUS / "000_9c9ac89b68401338.txt").read_text(encoding="utf-8"))
    _, info_003 = content_sections((CORPUS / "003_096012cda1bf5463.txt").read_text(encoding="utf-8"))
    _, info_004 = content_sections((CORPUS / "004_d4932bf2154f5a6f.txt").read_text(encoding="utf-8"))
    assert info_000.source == "bulgarianmilitary.com"
    assert info_003.author == "Ahmed Fathi"
    assert info_004.source == "Asia Times"
    assert info_004.date == "2024-07-13"


def test_corpus_sections_are_well_formed(corpus: dict[str, Document]) -> None:
    for doc in corpus.values():
        assert doc.sections
        assert_well_formed(doc.text, doc.sections)


# --- Boilerplate rules on small texts. ------------------------------------


def test_related_teasers_end_at_next_real_paragraph() -> None:
    text = (
        "A Headline About Something Important\n\nRelated Posts\n\nShort teaser headline here\n"
        "A snippet that stops mid...\n\n" + PARAGRAPHS[0] + "\n\nShort heading in body\n\n" + PARAGRAPHS[1]
    )
    spans, info = content_sections(text)
    kept = [text[s:e] for s, e in spans]
    assert kept == [
        "A Headline About Something Important",
        PARAGRAPHS[0],
        "Short heading in body",
        PARAGRAPHS[1],
    ]
    assert info.title == "A Headline About Something Important"


def test_a_snippet_with_no_prose_keeps_its_short_lines_and_an_article_drops_its_labels() -> None:
    """A web snippet of facts has no section labels to drop; above an article's prose, a short
    line such as "News World" is one."""
    snippet = "Tesla, Inc.\n\nHeadquarters: Austin, Texas\nFounded: July 1, 2003\n"
    spans, info = content_sections(snippet)
    assert [snippet[s:e] for s, e in spans] == ["Tesla, Inc.", "Headquarters: Austin, Texas", "Founded: July 1, 2003"]
    assert info.title == "Tesla, Inc."
    article = "News World\n\nHeadquarters: Austin\n\n" + PARAGRAPHS[0]
    spans, _ = content_sections(article)
    assert [article[s:e] for s, e in spans] == [PARAGRAPHS[0]]


def test_the_one_short_line_right_above_a_snippets_prose_is_its_title() -> None:
    """"Nomadland" over the sentence about the film names what the sentence is about."""
    snippet = "Nomadland\n" + PARAGRAPHS[0]
    spans, info = content_sections(snippet)
    assert [snippet[s:e] for s, e in spans] == ["Nomadland", PARAGRAPHS[0]]
    assert info.title == "Nomadland"


def test_line_endings_are_kept_and_offsets_point_into_text() -> None:
    text = "Views: 12\r\n" + PARAGRAPHS[0] + "\r\n\r\n" + PARAGRAPHS[1] + "\r" + PARAGRAPHS[2]
    spans, _ = content_sections(text)
    assert [text[s:e] for s, e in spans] == PARAGRAPHS


@pytest.mark.parametrize(
    ("line", "iso"),
    [
        ("Saturday, July 13, 2024", "2024-07-13"),
        ("July 13, 2024", "2024-07-13"),
        ("13 July 2024", "2024-07-13"),
        ("Published: Mar 3, 2023", "2023-03-03"),
        ("2023-03-03", "2023-03-03"),
        ("February 30, 2024", None),
        ("The drills began on July 13, 2024.", None),
    ],
)
def test_parse_date(line: str, iso: str | None) -> None:
    assert parse_date(line) == iso


def test_fallback_title_short_sentence_is_whole() -> None:
    text = "Troops arrived on Monday. More followed."
    assert fallback_title(text, [(0, len(text))]) == "Troops arrived on Monday."


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(),
            st.sampled_from(
                ["\r\n", "\r", "\n", "\n\n", "  ", "\u2028", "\x85", "\ufeff", "# ", "Related Posts"]
            ),
            st.text(alphabet="ab .…\u00a0\t", min_size=500, max_size=3000),
        ),
        max_size=20,
    ).map("".join)
)
def test_content_sections_spans_are_well_formed(text: str) -> None:
    spans, _ = content_sections(text)
    assert_well_formed(text, spans)
    assert all(text[s:e] for s, e in spans)


# --- Text files. ----------------------------------------------------------


def test_markdown_title_from_leading_heading(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Drills\n\n" + "\n\n".join(PARAGRAPHS) + "\n", encoding="utf-8")
    doc = load_document(path)
    assert doc.doc_id == "notes"
    assert doc.title == "Drills"
    assert section_texts(doc) == ["Drills", *PARAGRAPHS]


def test_bom_is_dropped_and_offsets_still_match(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    raw = "\ufeff".encode() + PARAGRAPHS[0].encode()
    path.write_bytes(raw)
    doc = load_document(path)
    assert doc.text == PARAGRAPHS[0]
    assert section_texts(doc) == [PARAGRAPHS[0]]
    assert doc.content_hash == hashlib.sha256(raw).hexdigest()


def test_text_is_not_normalised(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    raw = ("A Headline With Four Words\r\n\r\n" + PARAGRAPHS[0] + "\r\n").encode()
    path.write_bytes(raw)
    doc = load_document(path)
    assert doc.text == raw.decode()
    assert doc.title == "A Headline With Four Words"


# --- HTML. ----------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Drills Begin Near the Border</title></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World Politics Desk</a></li>
<li><a href="/about">About our newsroom team</a></li></ul></nav>
<article>
<h1>Drills Begin Near the Border</h1>
<p>Published: March 3, 2023</p>
<p>{0}</p>
<p>{1}</p>
<h2>Reaction abroad</h2>
<p>{2}</p>
<h3>Related Posts</h3>
<p>Another unrelated teaser headline inside</p>
<p>A snippet of some other story that stops...</p>
<p>Leave a Reply</p>
</article>
<aside><h3>Related Posts</h3><ul><li><a href="/a">Another unrelated teaser headline</a></li></ul></aside>
<footer><p>Copyright 2024 Example News. All rights reserved.</p></footer>
</body></html>
""".format(*PARAGRAPHS)


def test_html_keeps_article_and_drops_page_furniture(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    doc = load_document(path)
    kept = section_texts(doc)
    assert doc.doc_id == "page"
    assert doc.title == "Drills Begin Near the Border"
    assert doc.date == "2023-03-03"
    for paragraph in PARAGRAPHS:
        assert paragraph in kept
    assert "Reaction abroad" in kept
    joined = "\n".join(kept)
    for furniture in ("About our newsroom", "World Politics Desk", "Leave a Reply", "Related Posts",
                      "unrelated teaser", "other story", "All rights reserved", "Published:"):
        assert furniture not in joined
    assert_well_formed(doc.text, doc.sections)


MANUAL_PAGE = """<!DOCTYPE html>
<html><head><title>Resource Consumption</title></head><body><div class="sect1">
<h2>20.4. Resource Consumption</h2>
<dl><dt><code>work_mem</code> (<code>integer</code>)</dt>
<dd><p>
        Sets the base maximum amount of memory to be used by a query operation
        (such as a sort or hash table) before writing to temporary disk files.
        The default value is four megabytes (<code>4MB</code>).
       </p>
<p>
        Note that a complex query might perform several sort and hash
        operations at the same time.
       </p></dd></dl></div></body></html>
"""


def test_html_hard_wrapped_in_its_source_reads_as_whole_sentences(tmp_path: Path) -> None:
    path = tmp_path / "manual.html"
    path.write_text(MANUAL_PAGE, encoding="utf-8")
    text = load_document(path).text
    assert (
        "Sets the base maximum amount of memory to be used by a query operation (such as a sort or hash table) "
        "before writing to temporary disk files." in text
    )
    assert "Note that a complex query might perform several sort and hash operations at the same time." in text
    assert "\n        " not in text and " \n" not in text


TEXINFO_PAGE = """<!DOCTYPE html>
<html><head><title>Thread Safety (libffi)</title></head><body><div class="section">
<div class="header"><p>
Next: <a href="Memory.html" accesskey="n" rel="next">Memory Usage</a>, Previous: <a href="Closures.html"
rel="prev">Closure Example</a>, Up: <a href="Using.html" rel="up">Using libffi</a> &nbsp;
[<a href="Index.html" rel="index">Index</a>]</p></div><hr>
<h3>2.7 Thread Safety</h3>
<p>The library is not completely thread-safe. However, many parts are, and if you follow some simple
rules, you can use it safely in a multi-threaded program.</p>
<p>Prepare each call interface in one thread only, as the <a href="Memory.html" rel="next">next
section</a> explains for closures allocated by several threads at once.</p>
</div></body></html>
"""


def test_html_drops_the_bar_linking_to_the_pages_around_it(tmp_path: Path) -> None:
    """A generated manual's "Next: X, Previous: Y, Up: Z [Index]" bar is no content (HTML's
    link relations say so); a sentence holding such a link is."""
    path = tmp_path / "Thread-Safety.html"
    path.write_text(TEXINFO_PAGE, encoding="utf-8")
    text = load_document(path).text
    assert "The library is not completely thread-safe." in text
    assert "as the next section explains for closures" in " ".join(text.split())
    for bar in ("Previous:", "Up:", "Closure Example", "[Index]"):
        assert bar not in text


def test_html_without_markup_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.htm"
    path.write_text("this is not a web page at all", encoding="utf-8")
    with pytest.raises(LoadError, match="broken.htm"):
        load_document(path)


# --- PDF. -----------------------------------------------------------------


def test_pdf_text_and_title(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(minimal_pdf(["Troops Gather Near The Border", *PARAGRAPHS[:2]], title="Border Report"))
    doc = load_document(path)
    assert doc.doc_id == "report"
    assert doc.title == "Border Report"
    assert any("Troops from both countries began" in s for s in section_texts(doc))
    assert_well_formed(doc.text, doc.sections)


def test_pdf_title_from_header_without_metadata(tmp_path: Path) -> None:
    path = tmp_path / "untitled.pdf"
    path.write_bytes(minimal_pdf(["Troops Gather Near The Border", PARAGRAPHS[0]]))
    assert load_document(path).title == "Troops Gather Near The Border"


def test_pdf_page_furniture_is_dropped(tmp_path: Path) -> None:
    """A manual's running heads, page numbers and contents leaders are not content; a sentence
    running on to the next page is one sentence."""
    pages = [
        ["Field Manual", "Contents", "Setup . . . . . . . . . . . 2", "Tuning . . . . . . . . . . . 3", "1"],
        ["Chapter 1: Setup 2", "The server listens on port 5432 unless told otherwise, and it", "2"],
        ["Chapter 2: Tuning 3", "accepts one hundred connections by default.", "3"],
        ["Chapter 2: Tuning 4", "The cache holds 128 megabytes out of the box.", "4"],
    ]
    path = tmp_path / "manual.pdf"
    path.write_bytes(minimal_pdf([], pages=pages))
    doc = load_document(path)
    assert "Chapter" not in doc.text and ". . ." not in doc.text
    assert not any(line.strip().isdigit() for line in doc.text.splitlines())
    assert doc.text.startswith("Field Manual")
    sentences = [doc.text[s:e] for s, e in split_sentences(doc.text)]
    assert any(s.startswith("The server listens") and s.endswith("by default.") for s in sentences)
    assert_well_formed(doc.text, doc.sections)


# --- Errors. --------------------------------------------------------------


def _assert_load_error(path: Path, reason: str) -> None:
    with pytest.raises(LoadError) as caught:
        load_document(path)
    message = str(caught.value)
    assert "\n" not in message
    assert path.name in message
    assert reason in message


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("latin1.txt", "café au lait, près de la frontière".encode("latin-1"), "not UTF-8 text"),
        ("utf16.txt", "Troops arrived".encode("utf-16"), "not UTF-8 text"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n\t\n", "no article content"),
        ("furniture.txt", b"Views: 6\nLeave a Reply\n", "no article content"),
        ("notes.docx", b"PK\x03\x04", "unsupported file type"),
        ("noext", b"hello", "unsupported file type"),
        ("corrupt.pdf", b"%PDF-1.4\n1 0 obj <<< garbage", "PDF"),
        ("fake.pdf", b"just some text", "not a PDF"),
        ("binary.html", b"<html>\x00\x01\x02</html>", "binary"),
    ],
)
def test_bad_files_raise_load_error(tmp_path: Path, name: str, payload: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    _assert_load_error(path, reason)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    _assert_load_error(tmp_path / "missing.txt", "cannot read")


def test_directory_with_text_suffix_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "folder.txt"
    path.mkdir()
    _assert_load_error(path, "cannot read")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(PARAGRAPHS[0], encoding="utf-8")
    path.chmod(0)
    try:
        _assert_load_error(path, "cannot read")
    finally:
        path.chmod(0o600)


# --- Folders. -------------------------------------------------------------


def test_folder_skips_bad_files_with_warnings(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(PARAGRAPHS[0], encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("café près de la frontière".encode("latin-1"))
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.md").write_text(PARAGRAPHS[1], encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(PARAGRAPHS[2], encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD.txt").write_text(PARAGRAPHS[2], encoding="utf-8")
    documents, warnings = load_folder(tmp_path)
    assert [d.doc_id for d in documents] == ["good", "more"]
    assert len(warnings) == 2
    assert any("latin1.txt" in w and "not UTF-8" in w for w in warnings)
    assert any("blob.txt" in w and "binary" in w for w in warnings)


def test_folder_doc_id_clash_uses_relative_path(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text(PARAGRAPHS[0], encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "report.md").write_text(PARAGRAPHS[1], encoding="utf-8")
    (tmp_path / "b" / "report.txt").write_text(PARAGRAPHS[2], encoding="utf-8")
    documents, warnings = load_folder(tmp_path)
    assert warnings == []
    assert [d.doc_id for d in documents] == ["b/report", "b/report.txt", "report"]


def test_folder_warns_about_unsupported_files(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(PARAGRAPHS[0], encoding="utf-8")
    (tmp_path / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    documents, warnings = load_folder(tmp_path)
    assert [d.doc_id for d in documents] == ["good"]
    assert len(warnings) == 1 and "table.csv" in warnings[0]


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="does not exist"):
        load_folder(tmp_path / "nope")
    file_path = tmp_path / "file.txt"
    file_path.write_text(PARAGRAPHS[0], encoding="utf-8")
    with pytest.raises(LoadError, match="not a directory"):
        load_folder(file_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "data.csv").write_text("a,b", encoding="utf-8")
    with pytest.raises(LoadError, match="no supported documents"):
        load_folder(empty)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(LoadError, match="no loadable documents"):
        load_folder(broken)


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".html", ".htm", ".pdf"}


def test_permission_error_is_a_load_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.txt"
    path.write_text(PARAGRAPHS[0], encoding="utf-8")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    _assert_load_error(path, "Permission denied")


def test_a_page_keeps_its_own_title_over_a_note_heading_inside_it(tmp_path) -> None:
    """trafilatura titles this page after its "Important" box; the <title> element names the page."""
    page = tmp_path / "sql-explain.html"
    page.write_text(
        "<html><head><title>EXPLAIN</title></head><body><div class='refentry'><h2>Synopsis</h2>"
        "<p>" + "This command displays the execution plan that the planner generates. " * 8 + "</p>"
        "<div class='important'><h3 class='title'>Important</h3><p>The statement is actually executed.</p></div>"
        "</div></body></html>",
        encoding="utf-8",
    )
    assert load_document(page).title == "EXPLAIN"
