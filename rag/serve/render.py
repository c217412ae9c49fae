"""HTML for the web UI: answers, source cards, the article view, the collection table.

Pure functions from records to strings, so they can be tested without a
server. The markup lives in Jinja2 templates (rag/serve/templates/), the
page's style and click script in rag/serve/static/. Every piece of text that
comes from a document, a file name, a question or a model is escaped
(`esc`, quotes included): autoescaping is on, and every value a template
prints goes through `esc` first, so an article that contains `<script>` or
`<img onerror=...>` is shown as text and never runs. Markup is emitted on a
single line with newlines as `<br>`, so the chat's Markdown renderer passes
it through as one HTML block instead of re-reading article text as Markdown;
the templates are written over several lines for reading, and their line
breaks and indentation are dropped when they load.

Clicks are wired by class names only (no inline handlers, and the chat's
HTML sanitizer keeps classes but drops data attributes): a citation marker
or source card carries `rag-ref rag-ref-<n>`, the article it opens
`rag-article-<n>`, both inside one `.rag-turn`; `CLICK_SCRIPT` (served in the
page head) opens that article and scrolls its highlighted span into view.
Without the script, the article's own summary still opens it.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.ext import Extension
from markupsafe import Markup

from rag.core.records import Answer, Citation, Document, Topic

if TYPE_CHECKING:
    from rag.serve.collection import FileResult

_MARKER = re.compile(r"\[(\d+)\]")


# Beyond html.escape: characters that templating layers read as syntax (`${...}`, `{{...}}`,
# backticks, LaTeX `$$`), as numeric references that display unchanged.
_INERT = str.maketrans({"$": "&#36;", "{": "&#123;", "}": "&#125;", "`": "&#96;", "\\": "&#92;"})


def esc(text: str) -> str:
    """Escaped text on one line: `<br>` for line breaks, no raw newline for Markdown to act on.

    Besides `& < > " '`, the characters that Gradio's HTML templates, Markdown
    and LaTeX rendering treat as syntax are written as character references,
    so text from a document can only ever be displayed.
    """
    escaped = html.escape(text, quote=True).translate(_INERT)
    return escaped.replace("\r\n", "<br>").replace("\r", "<br>").replace("\n", "<br>")


class _OneLine(Extension):
    """Drops each template's line breaks and the indentation after them, as it loads.

    Templates are written over several lines for reading; what they render
    must be one line (see the module docstring). Only the template's own
    source is touched: a value never holds a raw line break, `esc` made it `<br>`.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return re.sub(r"\n\s*", "", source)


def _printed(value: Any) -> Any:
    """What a template prints: text through `esc`; markup made here (`Markup`) as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(esc(value))
    return value


_TEMPLATES = Environment(
    loader=PackageLoader("rag.serve", "templates"),
    autoescape=True,
    finalize=_printed,
    undefined=StrictUndefined,
    extensions=[_OneLine],
)


def _render(name: str, **values: Any) -> str:
    return str(_TEMPLATES.get_template(name).render(**values))


def marked(text: str, start: int, end: int, spans: Iterable[tuple[int, int]]) -> str:
    """`text[start:end]` escaped, with each span (clipped to it, overlaps merged) in `<mark>`."""
    clipped = sorted((max(s, start), min(e, end)) for s, e in spans if min(e, end) > max(s, start))
    merged: list[list[int]] = []
    for s, e in clipped:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    pieces, cursor = [], start
    for s, e in merged:
        pieces += [(text[cursor:s], False), (text[s:e], True)]
        cursor = e
    pieces.append((text[cursor:end], False))
    return _render("marked.html", pieces=pieces)


def answer_text(answer: Answer) -> str:
    """The answer with each `[n]` that names a citation turned into a clickable marker."""
    cited = {c.n for c in answer.citations}
    text, pieces, cursor = answer.answer, [], 0
    for m in _MARKER.finditer(text):
        if int(m.group(1)) in cited:  # a marker without a citation stays text
            pieces.append((text[cursor : m.start()], int(m.group(1))))
            cursor = m.end()
    pieces.append((text[cursor:], None))
    return _render("answer_text.html", pieces=pieces)


def source_card(citation: Citation, document: Document | None) -> str:
    """A numbered card: title, date, file and span, the passage with its support marked."""
    if document is not None and document.text[citation.start : citation.end] == citation.text:
        passage = Markup(marked(document.text, citation.start, citation.end, citation.support))
    else:  # the article changed since the answer was made: show the passage as cited
        passage = citation.text
    return _render(
        "source_card.html",
        n=citation.n,
        title=document.title if document is not None else citation.title,
        date=document.date if document is not None else None,
        passage=passage,
        doc_id=citation.doc_id,
        start=citation.start,
        end=citation.end,
    )


def article_view(citation: Citation, document: Document) -> str:
    """The whole article, the cited passage outlined and its supporting sentences in `<mark>`."""
    text = document.text
    start, end = max(0, citation.start), min(len(text), citation.end)
    return _render(
        "article.html",
        n=citation.n,
        title=document.title,
        date=document.date,
        before=text[:start],
        passage=Markup(marked(text, start, end, citation.support)),
        after=text[end:],
    )


def answer_message(answer: Answer, documents: Mapping[str, Document]) -> str:
    """One assistant message: the answer (or the abstention), its sources and their articles.

    `data-rag-question` and `data-rag-answer` keep the question that was
    answered (after any follow-up rewriting) and its answer, so the next
    follow-up can be resolved from the chat history alone (rag/serve/chat.py).
    """
    if answer.abstained:
        return _render("abstained.html", question=answer.question, said="", answer=answer.answer)
    return _render(
        "answer.html",
        question=answer.question,
        said=answer.answer,
        answer=Markup(answer_text(answer)),
        cards=[Markup(source_card(c, documents.get(c.doc_id))) for c in answer.citations],
        articles=[
            Markup(article_view(c, documents[c.doc_id])) for c in answer.citations if _unchanged(c, documents)
        ],
    )


def _unchanged(citation: Citation, documents: Mapping[str, Document]) -> bool:
    """The cited article is there and still holds the passage where the citation says (a reopened
    conversation may be older than the article)."""
    document = documents.get(citation.doc_id)
    return document is not None and document.text[citation.start : citation.end] == citation.text


def draft_message(draft: str, status: str = "Searching the collection…") -> str:
    """What the chat shows while an answer is being made: a status, then the streamed draft."""
    return _render("draft.html", draft=draft, status=status)


def error_message(message: str) -> str:
    """A one-line error in the chat (never a traceback)."""
    return _render("error.html", message=message.splitlines()[0] if message else "error")


def notice_message(message: str, label: str = "Not saved") -> str:
    """A one-line warning in the chat about something beside the answer (the answer stands)."""
    return _render("notice.html", label=label, message=message.splitlines()[0] if message else label)


def user_message(question: str) -> str:
    """The user's question as shown in the chat: escaped, so it is displayed as typed."""
    return esc(question)


def documents_table(documents: Iterable[Document], chunks: Mapping[str, int]) -> str:
    """The collection panel's table of documents."""
    return _render("documents_table.html", documents=documents, chunks=chunks)


def summary_view(topics: Iterable[Topic]) -> str:
    """Summaries, grouped by topic (a document's own: one topic without terms), each sentence with its span.

    The sentences are shown as the document writes them (escaped, line breaks
    included), so what is read is exactly `text[start:end]`.
    """
    return _render("summary.html", topics=list(topics))


def stats_table(rows: Iterable[tuple[str, str]]) -> str:
    """The collection panel's figures, one (name, value) row each."""
    return _render("stats_table.html", rows=rows)


def upload_report(results: Iterable[FileResult], summary: str = "", error: str = "") -> str:
    """What happened to each uploaded file, then the ingest's summary or its error."""
    return _render("upload_report.html", results=results, summary=summary, error=error)


def header(title: str) -> str:
    """The page's title and what the assistant does."""
    return _render("header.html", title=title)


def age(created: float, now: float | None = None) -> str:
    """'3 minutes ago' for an index built at `created` (epoch seconds)."""
    seconds = max(0, int((now if now is not None else time.time()) - created))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def _static(name: str) -> str:
    return resources.files("rag.serve").joinpath("static", name).read_text(encoding="utf-8")


# The page's style and click script, from rag/serve/static/; `serve` hands them to Gradio
# (`css=`, and `head=` so the script runs as a document-level <script>).
CSS = _static("rag.css")
CLICK_SCRIPT = _render("head.html", script=Markup(_static("click.js")))
