"""Spans the source marks as code: found again in the extracted text, stored as mentions, offered as answers."""

from __future__ import annotations

from rag.core.records import Document
from rag.ingestion.loading import load_document
from rag.ingestion.marked import marked_in_markdown
from rag.ingestion.nlp import MARKED, annotate

PAGE = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><head><title>Error reporting and logging</title></head>
<body><div class="sect1"><h2>Where to log</h2>
<p>PostgreSQL supports several methods for logging server messages, including
<span class="systemitem">stderr</span>, <code class="literal">csvlog</code> and <code class="literal">syslog</code>.
The default is to log to <span class="systemitem">stderr</span> only. This parameter can only be set in the
<code class="filename">postgresql.conf</code> file or on the server command line.</p>
<p>When <code class="varname">logging_collector</code> is turned <code class="literal">on</code>, the messages go
on to be collected on the server side, on a schedule, on every platform the server runs on, and on and on
until the collector is switched off again on purpose; this can be used on most systems on which it runs.</p>
<pre class="programlisting">log_destination = 'stderr'</pre>
<p>Nested markup keeps the outer name: <code class="option">-p <code class="replaceable">port</code></code>.</p>
</div></body></html>
"""


def _marked_words(document: Document) -> list[str]:
    return [document.text[s:e] for s, e in document.marked]


def test_an_html_page_marks_its_code_literals_in_the_extracted_text(tmp_path) -> None:
    path = tmp_path / "logging.html"
    path.write_text(PAGE, encoding="utf-8")
    document = load_document(path)
    words = _marked_words(document)
    assert {"stderr", "csvlog", "syslog", "postgresql.conf", "logging_collector"} <= set(words), words
    default = document.text.index("The default is to log to stderr") + len("The default is to log to ")
    assert (default, default + len("stderr")) in document.marked  # an exact span of the text
    assert "port" not in words  # inside another code element


def test_a_literal_that_is_also_a_common_word_does_not_mark_the_prose() -> None:
    """'on' is marked once and written a dozen times: marking every one would name nothing."""
    from lxml import html

    from rag.ingestion.marked import marked_in_html

    root = html.fromstring(PAGE.split("?>", 1)[1])
    text = root.text_content()
    words = [text[s:e] for s, e in marked_in_html(root, text)]
    assert "on" not in words and "stderr" in words


def test_markdown_marks_what_is_inside_backticks() -> None:
    text = "Set `work_mem` to `64MB`; a ``` fence``` and an empty `` pair mark nothing."
    assert [text[s:e] for s, e in marked_in_markdown(text)] == ["work_mem", "64MB"]


def test_marked_spans_become_mentions_within_the_content_sections() -> None:
    text = "Menu `home`\nThe default method is `trust` for local connections."
    content = text.index("The default")
    marked = marked_in_markdown(text)
    document = Document("d", "d.md", text, "t", None, ((content, len(text)),), "h", marked)
    found = {(text[m.start : m.end], m.label) for m in annotate([document])["d"]}
    assert ("trust", MARKED) in found and ("home", MARKED) not in found

