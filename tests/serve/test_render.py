"""The web UI's HTML: escaping, exact highlight spans, clickable markers, the abstention style."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from rag.core.records import Answer, Citation, Document
from rag.serve import render

TEXT = (
    "Zorblat <b>report</b> ${7*7} {{x}}\n"
    'The festival was held on March 3 in Kelvane. <script>window.__xss=1</script> <img src=x onerror="x()">\n'
    "More than 4,000 visitors came & stayed.\n"
)
SUPPORT = "The festival was held on March 3 in Kelvane."


def _document() -> Document:
    return Document(
        doc_id="zorblat",
        path="/c/zorblat.txt",
        text=TEXT,
        title='<img src=x onerror="t()"> Zorblat',
        date="2024-03-04",
        sections=((0, len(TEXT)),),
        content_hash="h",
    )


def _citation(doc: Document) -> Citation:
    start = doc.text.index(SUPPORT)
    return Citation(
        n=1,
        doc_id=doc.doc_id,
        title=doc.title,
        start=0,
        end=len(doc.text),
        text=doc.text,
        support=((start, start + len(SUPPORT)),),
    )


class _Tags(HTMLParser):
    """Collects tags, attributes, and the text inside <mark>, as a browser would parse them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.marks: list[str] = []
        self.text: list[str] = []
        self._in_mark = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "mark":
            self._in_mark += 1
            self.marks.append("")
        if tag == "br":
            self.text.append("\n")
            if self._in_mark:
                self.marks[-1] += "\n"

    def handle_endtag(self, tag):
        if tag == "mark":
            self._in_mark -= 1

    def handle_data(self, data):
        self.text.append(data)
        if self._in_mark:
            self.marks[-1] += data


def _parse(markup: str) -> _Tags:
    parser = _Tags()
    parser.feed(markup)
    return parser


def test_escaping_leaves_no_markup_from_the_text() -> None:
    out = render.esc(TEXT)
    assert "<script" not in out and "<img" not in out and "<b>" not in out
    assert "\n" not in out  # one line: Markdown must not re-read it
    for raw in ("${", "{{", "`"):
        assert raw not in out  # inert for template engines and LaTeX
    parsed = _parse(out)
    assert {t for t, _ in parsed.tags} <= {"br"}
    assert "".join(parsed.text) == TEXT


def test_marked_highlights_exactly_the_spans() -> None:
    start = TEXT.index(SUPPORT)
    out = render.marked(TEXT, 0, len(TEXT), [(start, start + len(SUPPORT))])
    parsed = _parse(out)
    assert parsed.marks == [SUPPORT]
    assert "".join(parsed.text) == TEXT


def test_marked_clips_and_merges_spans() -> None:
    text = "abcdefghij"
    out = render.marked(text, 2, 8, [(0, 4), (3, 5), (7, 12)])
    assert out == "<mark>cde</mark>fg<mark>h</mark>"
    assert render.marked(text, 2, 8, []) == "cdefgh"


def test_answer_message_has_clickable_marker_card_and_article() -> None:
    doc = _document()
    citation = _citation(doc)
    answer = Answer(question="When was it?", answer="March 3 [1]", abstained=False, citations=[citation])
    out = render.answer_message(answer, {doc.doc_id: doc})
    parsed = _parse(out)
    classes = [a.get("class", "") for _, a in parsed.tags]
    assert any("rag-cite" in c and "rag-ref-1" in c for c in classes)  # the [1] marker
    assert any("rag-card" in c and "rag-ref-1" in c for c in classes)  # the source card
    assert any("rag-article-1" in c for c in classes)  # the whole article
    assert not any(t in ("script", "img", "b") for t, _ in parsed.tags)
    assert not any(k.startswith("on") for _, a in parsed.tags for k in a)
    assert parsed.marks == [SUPPORT, SUPPORT]  # in the card and in the article
    assert "\n" not in out
    shown = "".join(parsed.text)
    assert '<img src=x onerror="t()"> Zorblat' in shown  # the title, as text
    assert "<script>window.__xss=1</script>" in shown
    assert "2024-03-04" in shown
    turn = re.search(r'data-rag-question="([^"]*)" data-rag-answer="([^"]*)"', out)
    assert (
        turn
        and html.unescape(turn.group(1)) == "When was it?"
        and html.unescape(turn.group(2)) == "March 3 [1]"
    )


def test_article_view_outlines_the_passage_and_marks_the_support() -> None:
    doc = _document()
    start = TEXT.index(SUPPORT)
    citation = Citation(
        1, doc.doc_id, doc.title, start - 5, start + len(SUPPORT) + 3, "", ((start, start + len(SUPPORT)),)
    )
    out = render.article_view(citation, doc)
    assert out.startswith('<details class="rag-article rag-article-1">')
    parsed = _parse(out)
    assert parsed.marks == [SUPPORT]
    body = out.split('<div class="rag-article-text">', 1)[1]
    assert "".join(_parse(body).text).rstrip() == TEXT.rstrip()
    span = re.search(r'<span class="rag-span">(.*?)</span>', out).group(1)
    assert "".join(_parse(span).text) == TEXT[citation.start : citation.end]


def test_marker_without_a_citation_stays_text() -> None:
    answer = Answer(question="q", answer="x [2]", abstained=False, citations=[])
    assert render.answer_text(answer) == "x [2]"


def test_abstention_has_its_own_style_and_no_sources() -> None:
    answer = Answer(
        question="What is the capital of Peru?", answer="The documents do not say.", abstained=True
    )
    out = render.answer_message(answer, {})
    assert 'class="rag-turn rag-abstained"' in out
    assert "No answer" in out and "rag-card" not in out and "rag-answered" not in out
    assert ".rag-abstained" in render.CSS


def test_error_and_user_messages_are_one_escaped_line() -> None:
    assert render.error_message("bad <thing>\nTraceback ...") == (
        '<div class="rag-turn rag-error"><span class="rag-label">Error</span> bad &lt;thing&gt;</div>'
    )
    assert render.user_message("<img src=x onerror=y()>") == "&lt;img src=x onerror=y()&gt;"


def test_documents_table_escapes_titles() -> None:
    out = render.documents_table([_document()], {"zorblat": 3})
    assert "<img" not in out and "&lt;img" in out and "<td>3</td>" in out


def test_age_reads_naturally() -> None:
    assert render.age(1000, now=1030) == "just now"
    assert render.age(1000, now=1000 + 60) == "1 minute ago"
    assert render.age(1000, now=1000 + 7200) == "2 hours ago"
    assert render.age(1000, now=1000 + 3 * 86400) == "3 days ago"


def test_collection_panel_markup_is_escaped_and_inert() -> None:
    from rag.serve.collection import FileResult

    name, message = '<img src=x onerror="y()">.txt', "${7*7} {{x}} `x`"
    out = render.upload_report([FileResult(name, False, message)], summary="1 <b>added</b>", error="<i>\nmore")
    out += render.stats_table([("<b>Documents</b>", "${2}")])
    parsed = _parse(out)
    assert {t for t, _ in parsed.tags} <= {"ul", "li", "div", "table", "tr", "th", "td", "br"}
    assert not any(k.startswith("on") for _, a in parsed.tags for k in a)
    for raw in ("${", "{{", "`"):
        assert raw not in out
    shown = "".join(parsed.text)
    assert f"✗ {name}: {message}" in shown and "1 <b>added</b>" in shown and "<b>Documents</b>" in shown
    assert "\n" not in out.replace("<br>", "")


def test_page_style_and_script_are_the_package_files() -> None:
    from importlib import resources

    static = resources.files("rag.serve").joinpath("static")
    assert render.CSS == static.joinpath("rag.css").read_text(encoding="utf-8")
    script = static.joinpath("click.js").read_text(encoding="utf-8")
    assert render.CLICK_SCRIPT.startswith("<script>") and render.CLICK_SCRIPT.rstrip().endswith("</script>")
    assert script in render.CLICK_SCRIPT  # verbatim: never escaped or folded onto one line
