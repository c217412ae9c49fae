"""HTML for the web UI: answers, source cards, the article view, the collection table.

Pure functions from records to strings, so they can be tested without a
server. Every piece of text that comes from a document, a file name, a
question or a model is escaped here (`html.escape`, quotes included): an
article that contains `<script>` or `<img onerror=...>` is shown as text and
never runs. Markup is emitted on a single line with newlines as `<br>`, so
the chat's Markdown renderer passes it through as one HTML block instead of
re-reading article text as Markdown.

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

from rag.core.records import Answer, Citation, Document

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
        pieces.append(esc(text[cursor:s]))
        pieces.append(f"<mark>{esc(text[s:e])}</mark>")
        cursor = e
    pieces.append(esc(text[cursor:end]))
    return "".join(pieces)


def answer_text(answer: Answer) -> str:
    """The answer with each `[n]` that names a citation turned into a clickable marker."""
    cited = {c.n for c in answer.citations}

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in cited:
            return m.group(0)
        return f'<a class="rag-cite rag-ref rag-ref-{n}" href="#" title="Open the cited article">[{n}]</a>'

    return _MARKER.sub(link, esc(answer.answer))


def source_card(citation: Citation, document: Document | None) -> str:
    """A numbered card: title, date, file and span, the passage with its support marked."""
    title = document.title if document is not None else citation.title
    date = f'<span class="rag-date">{esc(document.date)}</span>' if document and document.date else ""
    if document is not None and document.text[citation.start : citation.end] == citation.text:
        passage = marked(document.text, citation.start, citation.end, citation.support)
    else:  # the article changed since the answer was made: show the passage as cited
        passage = esc(citation.text)
    n = citation.n
    return (
        f'<div class="rag-card rag-ref rag-ref-{n}" role="button" tabindex="0" title="Open the whole article">'
        f'<div class="rag-card-head"><span class="rag-n">{n}</span>'
        f'<span class="rag-title">{esc(title)}</span>{date}</div>'
        f'<div class="rag-passage-text">{passage}</div>'
        f'<div class="rag-card-foot">{esc(citation.doc_id)} · chars {citation.start}–{citation.end}</div>'
        f"</div>"
    )


def article_view(citation: Citation, document: Document) -> str:
    """The whole article, the cited passage outlined and its supporting sentences in `<mark>`."""
    text = document.text
    start, end = max(0, citation.start), min(len(text), citation.end)
    body = (
        f"{esc(text[:start])}"
        f'<span class="rag-span">{marked(text, start, end, citation.support)}</span>'
        f"{esc(text[end:])}"
    )
    date = f" · {esc(document.date)}" if document.date else ""
    return (
        f'<details class="rag-article rag-article-{citation.n}">'
        f'<summary><span class="rag-n">{citation.n}</span> {esc(document.title)}{date}'
        f' <span class="rag-open-hint">— whole article</span></summary>'
        f'<div class="rag-article-text">{body}</div>'
        f"</details>"
    )


def answer_message(answer: Answer, documents: Mapping[str, Document]) -> str:
    """One assistant message: the answer (or the abstention), its sources and their articles.

    `data-rag-question` and `data-rag-answer` keep the question that was
    answered (after any follow-up rewriting) and its answer, so the next
    follow-up can be resolved from the chat history alone (rag/serve/chat.py).
    """
    question, said = esc(answer.question), esc("" if answer.abstained else answer.answer)
    data = f'data-rag-question="{question}" data-rag-answer="{said}"'
    if answer.abstained:
        return (
            f'<div class="rag-turn rag-abstained" {data}>'
            f'<div class="rag-answer"><span class="rag-label">No answer</span> {esc(answer.answer)}</div>'
            f'<div class="rag-note">Nothing in the collection is relevant enough to answer this; '
            f"no guess is made.</div></div>"
        )
    cards = "".join(source_card(c, documents.get(c.doc_id)) for c in answer.citations)
    articles = "".join(
        article_view(c, documents[c.doc_id]) for c in answer.citations if c.doc_id in documents
    )
    return (
        f'<div class="rag-turn rag-answered" {data}>'
        f'<div class="rag-answer">{answer_text(answer)}</div>'
        f'<div class="rag-sources"><div class="rag-sources-label">Sources</div>{cards}</div>'
        f"{articles}</div>"
    )


def draft_message(draft: str, status: str = "Searching the collection…") -> str:
    """What the chat shows while an answer is being made: a status, then the streamed draft."""
    if not draft:
        return f'<div class="rag-turn rag-pending"><span class="rag-status">{esc(status)}</span></div>'
    return (
        f'<div class="rag-turn rag-pending"><span class="rag-status">Draft</span> '
        f'<span class="rag-draft">{esc(draft)}</span></div>'
    )


def error_message(message: str) -> str:
    """A one-line error in the chat (never a traceback)."""
    first = message.splitlines()[0] if message else "error"
    return f'<div class="rag-turn rag-error"><span class="rag-label">Error</span> {esc(first)}</div>'


def user_message(question: str) -> str:
    """The user's question as shown in the chat: escaped, so it is displayed as typed."""
    return esc(question)


def documents_table(documents: Iterable[Document], chunks: Mapping[str, int]) -> str:
    """The collection panel's table of documents."""
    rows = "".join(
        f"<tr><td>{esc(d.doc_id)}</td><td>{esc(d.title)}</td><td>{esc(d.date or '')}</td>"
        f"<td>{chunks.get(d.doc_id, 0)}</td></tr>"
        for d in documents
    )
    return (
        '<table class="rag-docs"><thead><tr><th>document</th><th>title</th><th>date</th>'
        f"<th>chunks</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def age(created: float, now: float | None = None) -> str:
    """'3 minutes ago' for an index built at `created` (epoch seconds)."""
    seconds = max(0, int((now if now is not None else time.time()) - created))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


# Served in the page head. Event delegation on the document: chat messages are
# re-rendered by the frontend, so nothing is bound to individual elements.
CLICK_SCRIPT = """
<script>
(() => {
  function refNumber(el) {
    for (const name of el.classList) {
      const m = /^rag-ref-(\\d+)$/.exec(name);
      if (m) return m[1];
    }
    return null;
  }
  function openArticle(trigger) {
    const turn = trigger.closest('.rag-turn');
    const n = refNumber(trigger);
    if (!turn || !n) return;
    const article = turn.querySelector('details.rag-article-' + n);
    if (!article) return;
    article.open = true;
    document.querySelectorAll('.rag-article.rag-focus').forEach((el) => el.classList.remove('rag-focus'));
    article.classList.add('rag-focus');
    const target = article.querySelector('mark') || article.querySelector('.rag-span') || article;
    requestAnimationFrame(() => target.scrollIntoView({block: 'center', behavior: 'instant'}));
  }
  document.addEventListener('click', (event) => {
    const trigger = event.target.closest && event.target.closest('.rag-ref');
    if (!trigger) return;
    event.preventDefault();
    openArticle(trigger);
  }, true);
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    const trigger = event.target.closest && event.target.closest('.rag-card.rag-ref');
    if (!trigger) return;
    event.preventDefault();
    openArticle(trigger);
  }, true);
})();
</script>
"""

CSS = """
.rag-turn { line-height: 1.45; }
.rag-answer { font-size: 1.1em; font-weight: 600; }
.rag-cite { text-decoration: none; font-weight: 700; cursor: pointer; padding: 0 2px; border-radius: 4px; }
.rag-cite:hover { background: rgba(59, 130, 246, 0.15); }
.rag-label { display: inline-block; font-size: 0.75em; font-weight: 700; text-transform: uppercase;
  letter-spacing: 0.04em; padding: 1px 6px; border-radius: 4px; margin-right: 6px; vertical-align: middle; }
.rag-abstained { border-left: 4px solid #d97706; padding: 4px 10px; background: rgba(217, 119, 6, 0.08);
  border-radius: 4px; }
.rag-abstained .rag-answer { font-weight: 500; font-style: italic; color: #92400e; }
.rag-abstained .rag-label { background: #d97706; color: #fff; font-style: normal; }
.rag-note { font-size: 0.85em; opacity: 0.8; margin-top: 2px; }
.rag-error { border-left: 4px solid #dc2626; padding: 4px 10px; background: rgba(220, 38, 38, 0.08);
  border-radius: 4px; }
.rag-error .rag-label { background: #dc2626; color: #fff; }
.rag-pending .rag-status { font-size: 0.85em; opacity: 0.7; margin-right: 4px; }
.rag-draft { opacity: 0.75; font-style: italic; }
.rag-sources { margin-top: 10px; display: flex; flex-direction: column; gap: 8px; }
.rag-sources-label { font-size: 0.8em; text-transform: uppercase; letter-spacing: 0.05em; opacity: 0.7; }
.rag-card { border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 8px; padding: 8px 10px;
  cursor: pointer; font-size: 0.92em; }
.rag-card:hover { border-color: #3b82f6; }
.rag-card-head { display: flex; gap: 8px; align-items: baseline; margin-bottom: 4px; }
.rag-n { display: inline-block; min-width: 1.4em; text-align: center; border-radius: 4px;
  background: #3b82f6; color: #fff; font-weight: 700; font-size: 0.85em; }
.rag-title { font-weight: 600; }
.rag-date { opacity: 0.7; font-size: 0.85em; white-space: nowrap; }
.rag-card-foot { opacity: 0.6; font-size: 0.8em; margin-top: 4px; }
.rag-turn mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.rag-article { margin-top: 8px; border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 8px;
  padding: 6px 10px; }
.rag-article summary { cursor: pointer; font-size: 0.9em; }
.rag-open-hint { opacity: 0.6; }
.rag-article-text { max-height: 360px; overflow-y: auto; margin-top: 6px; font-size: 0.9em;
  white-space: pre-wrap; }
.rag-span { background: rgba(59, 130, 246, 0.1); border-radius: 3px; }
.rag-article.rag-focus { border-color: #3b82f6; }
.rag-docs { width: 100%; font-size: 0.85em; border-collapse: collapse; }
.rag-docs th, .rag-docs td { text-align: left; padding: 2px 6px; border-bottom: 1px solid rgba(128, 128, 128, 0.2); }
.rag-upload-ok { color: #15803d; }
.rag-upload-error { color: #dc2626; }
"""
