"""Prompt assembly from the template files in `prompts/`.

Templates are read at run time, so wording can change without touching
code; what the collection is about fills their {description} placeholder
(rag/core/collection_info.py). Passages are numbered and fenced in <passage> tags; any tag-like text
inside an article is neutralised so an article cannot close its fence and
pose as instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import PromptError

_FENCE = re.compile(r"</?\s*passage\b", re.IGNORECASE)
_SECTION = re.compile(r"^### (\w+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PromptTemplate:
    system: str
    user: str

    def render(self, **values: str) -> tuple[str, str]:
        """Substitute {name} placeholders; values are inserted verbatim, never re-parsed."""
        return _fill(self.system, values), _fill(self.user, values)


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def load_template(prompts_dir: Path, name: str) -> PromptTemplate:
    """Read `prompts/<name>.txt`, split into its `### system` and `### user` parts."""
    path, text = _read(prompts_dir, name)
    parts = _SECTION.split(text)
    sections = {parts[i].lower(): parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}
    if "user" not in sections:
        raise PromptError(f"prompt template {path} has no '### user' section")
    return PromptTemplate(sections.get("system", ""), sections["user"])


def load_fragment(prompts_dir: Path, name: str) -> str:
    return _read(prompts_dir, name)[1].strip("\n")


def _read(prompts_dir: Path, name: str) -> tuple[Path, str]:
    path = Path(prompts_dir) / f"{name}.txt"
    try:
        return path, path.read_text(encoding="utf-8")
    except OSError:
        raise PromptError(f"prompt template {path} is missing") from None


def fence(text: str) -> str:
    """Make passage text unable to open or close a passage fence."""
    return _FENCE.sub(lambda m: m.group(0).replace("<", "‹"), text)


def format_passages(fragment: str, passages: list[tuple[int, str, str]]) -> str:
    """`passages` are (n, title, text); each is rendered with the passage fragment."""
    blocks = []
    for n, title, text in passages:
        safe_title = fence(title).replace('"', "'")
        blocks.append(_fill(fragment, {"n": str(n), "title": safe_title, "text": fence(text)}))
    return "\n".join(blocks)
