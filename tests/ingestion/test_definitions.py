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
