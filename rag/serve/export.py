"""A stored conversation as Markdown, to paste into a report.

Each answer keeps its citation markers as footnotes (`[^n]`, numbered
through the whole conversation); each footnote gives the document's title,
its id and the cited passage's character span, then quotes the supporting
sentences verbatim, with their own spans. Everything comes from the stored
`rag ask --json` objects (rag/serve/history.py), so an export needs no
index and quotes what the answer was made from.

Text from documents and questions is escaped for Markdown (a backslash
before the characters that would format it), so it renders exactly as
written.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from rag.serve.history import Conversation, StoredTurn

_MARKER = re.compile(r"\s*\[(\d+)\]")
_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+(?=[.)]))", re.MULTILINE)  # a list's number: escape what follows
METHODS = {"model": "by the model", "rule": "by a rule", "fallback": "by the fallback"}


def md_text(text: str) -> str:
    """`text` escaped so that Markdown shows it as it is, on one line per source line."""
    escaped = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_start, escaped)


def _escape_start(m: re.Match) -> str:
    """`# x` -> `\\# x`; `1. x` -> `1\\. x` (a backslash before a digit is not an escape)."""
    lead, mark = m.group(1), m.group(2)
    if mark.isdigit():
        return f"{lead}{mark}\\"
    return f"{lead}\\{mark}"


def conversation_markdown(conversation: Conversation, turns: Sequence[StoredTurn]) -> str:
    """The whole conversation: a title, then each question, its answer and its footnotes."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.created))
    asked = f"{len(turns)} question{'s' if len(turns) != 1 else ''}"
    parts = [f"# {md_text(conversation.name)}", f"*{asked}, started {when}; answers cite the documents.*"]
    first_note = 1
    for n, turn in enumerate(turns, 1):
        section, first_note = _turn(n, turn, first_note)
        parts.append(section)
    return "\n\n".join(parts) + "\n"


def _turn(n: int, turn: StoredTurn, first_note: int) -> tuple[str, int]:
    """One turn's section and the next free footnote number."""
    data = turn.answer
    lines = [f"## {n}. {md_text(' '.join(turn.asked.split()))}"]
    if turn.rewrite is not None:
        how = METHODS.get(turn.rewrite.method, turn.rewrite.method)
        lines.append(f"*Asked as* ({how}): {md_text(turn.rewrite.standalone)}")
    if data.get("abstained"):
        lines.append(f"*No answer:* {md_text(data['answer'])}")
        return "\n\n".join(lines), first_note
    numbers = {c["n"]: first_note + i for i, c in enumerate(data.get("citations", ()))}
    lines.append(_answer(data["answer"], numbers))
    lines += [_footnote(numbers[c["n"]], c) for c in data.get("citations", ())]
    return "\n\n".join(lines), first_note + len(numbers)


def _answer(answer: str, numbers: Mapping[int, int]) -> str:
    """The answer text with each `[n]` of a citation as its footnote marker."""
    pieces, cursor = [], 0
    for m in _MARKER.finditer(answer):
        if int(m.group(1)) in numbers:
            pieces += [md_text(answer[cursor : m.start()]), f"[^{numbers[int(m.group(1))]}]"]
            cursor = m.end()
    pieces.append(md_text(answer[cursor:]))
    return "**Answer:** " + "".join(pieces)


def _footnote(number: int, citation: Mapping[str, Any]) -> str:
    """`[^n]:` the title, id and passage span, then each supporting sentence quoted (the passage
    itself when no sentence was marked), each with its span."""
    head = f"[^{number}]: *{md_text(citation['title'])}* (`{citation['doc']}`, characters {citation['start']}–{citation['end']})"
    quoted = citation.get("support") or [{"start": citation["start"], "end": citation["end"], "text": citation["text"]}]
    blocks = [head]
    for sentence in quoted:
        quote = "\n".join(f"    > {md_text(line.strip())}" for line in sentence["text"].splitlines() or [""])
        blocks.append(f"{quote}\n    >\n    > — characters {sentence['start']}–{sentence['end']}")
    return "\n\n".join(blocks)
