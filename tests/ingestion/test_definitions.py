"""Defined terms (HTML dt/dd) found again in the extracted text, and what each one's description covers."""

from rag.ingestion.loading import load_document

PAGE = """<html><head><title>Checkpoints</title></head><body><h1>Checkpoints</h1>
<p>These settings control how often the server writes its checkpoints to disk.</p>
<dl>
<dt><code>checkpoint_timeout</code> (<code>integer</code>)</dt>
<dd><p>Maximum time between automatic checkpoints. The default is five minutes (5min).</p></dd>
<dt><code>checkpoint_warning</code> (<code>integer</code>)</dt>
<dd><p>Write a message to the server log if checkpoints happen closer together than this.
The default is 30 seconds (30s).</p></dd>
</dl>
<p>A closing paragraph about something else entirely, long enough to be kept by the extractor.</p>
</body></html>"""


def test_each_sentence_of_a_description_is_under_its_term(tmp_path):
    path = tmp_path / "wal.html"
    path.write_text(PAGE, encoding="utf-8")
    doc = load_document(path)
    first = doc.text.index("The default is five minutes")
    second = doc.text.index("The default is 30 seconds")
    term = doc.defining(first)
    assert term is not None and doc.text[term[0] : term[1]].startswith("checkpoint_timeout")
    other = doc.defining(second)
    assert other is not None and doc.text[other[0] : other[1]].startswith("checkpoint_warning")
    assert doc.defining(doc.text.index("These settings control")) is None  # before any definition
    assert doc.defining(doc.text.index("A closing paragraph")) is None  # after the list


def test_plain_text_defines_nothing(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("checkpoint_timeout\nThe default is five minutes.\n", encoding="utf-8")
    assert load_document(path).defined == ()


# Sphinx's shape: the signature in a dt with a permalink, the description's paragraphs and example in
# a dd, the source's line breaks inside each paragraph.
SPHINX_PAGE = """<html><head><title>cachetools — Caches</title></head><body>
<div class="body" role="main"><section id="module-cachetools"><h1>cachetools — Caches<a
class="headerlink" href="#module-cachetools" title="Permalink to this headline">¶</a></h1>
<p>This module provides decorators that remember what a function returned for
the arguments it was given.</p>
<dl class="py function">
<dt class="sig sig-object py" id="cachetools.memo"><span class="sig-prename">cachetools.</span><span
class="sig-name">memo</span>(<em>limit=64</em>)<a class="headerlink" href="#cachetools.memo">¶</a></dt>
<dd><p>Decorator that saves up to <em>limit</em> results of the function it wraps. An
<code>OSError</code>
exception is raised when the store is full.</p>
<p>Example:</p>
<div class="highlight"><pre>@memo
def square(n):
    return n * n
</pre></div>
<p>If <em>limit</em> is zero, nothing is ever saved.</p>
</dd></dl>
<p>A closing paragraph about something else entirely, long enough to be kept by the extractor.</p>
<p class="rubric">Footnotes</p>
<aside class="footnote-list"><aside class="footnote" id="id3" role="note"><span class="label">[1]</span>
<p>A saved result is never
refreshed.</p></aside></aside>
</section></div></body></html>"""


def test_a_sphinx_signature_is_a_term_and_its_paragraphs_stay_sentences(tmp_path):
    path = tmp_path / "cachetools.html"
    path.write_text(SPHINX_PAGE, encoding="utf-8")
    doc = load_document(path)
    assert "¶" not in doc.text  # the permalinks
    assert "An OSError exception is raised when the store is full." in doc.text  # a paragraph's line breaks
    assert "the arguments it was given" in doc.text
    term = doc.defining(doc.text.index("If limit is zero"))
    assert term is not None and doc.text[term[0] : term[1]] == "cachetools.memo(limit=64)"
    example = doc.text.index("@memo")
    assert doc.text[example - 1] == "\n" and "Example:\n" in doc.text  # the code is not in a sentence
    assert "If limit is zero, nothing is ever saved." in doc.text.splitlines()
    assert "A saved result is never refreshed." in doc.text  # a footnote is the page's content


def test_a_term_is_found_where_all_its_words_are_not_at_a_line_sharing_its_first(tmp_path):
    page = """<html><body><div role="main"><section><h1>Shapes</h1>
<p>Shapes are drawn by classes; a line of the example below starts with the same word as a term.</p>
<pre>class Square(Shape): pass
</pre>
<dl><dt>class shapes.Circle(radius)</dt><dd><p>A round shape of the given radius, drawn from its centre.</p></dd></dl>
<p>A closing paragraph about something else entirely, long enough to be kept by the extractor.</p>
</section></div></body></html>"""
    path = tmp_path / "shapes.html"
    path.write_text(page, encoding="utf-8")
    doc = load_document(path)
    term = doc.defining(doc.text.index("A round shape"))
    assert term is not None and doc.text[term[0] : term[1]] == "class shapes.Circle(radius)"
