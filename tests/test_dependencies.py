"""Every third-party package the code imports is declared in pyproject.toml.

A package that arrives only as another one's dependency can vanish with that
package's next release, so each one imported is declared itself: what rag/ and
app.py import in [project.dependencies] (or an optional feature's extra, such
as pgvector), what only tests, benchmarks and eval scripts import in the dev
extra. Imports inside functions count too: they run when the feature is used.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from conftest import ROOT

SOURCES = ("rag", "app.py", "tests", "bench", "eval")
RUNTIME = ("rag", "app.py")
DEV_EXTRA = "dev"
# imported, and deliberately not declared
UNDECLARED = {
    "torch": "installed first from PyTorch's CPU index by `make install` (see pyproject.toml)",
    "llama_index": "bench/llamaindex_baseline.py runs in a venv of its own (`make bench-llamaindex-venv`)",
}


def _files(root: Path, sources: tuple[str, ...]) -> list[Path]:
    files = []
    for name in sources:
        path = root / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def imports(root: Path, sources: tuple[str, ...]) -> dict[str, set[str]]:
    """Top-level module -> the files (relative to `root`) that import it, absolute imports only."""
    found: dict[str, set[str]] = {}
    for path in _files(root, sources):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], set()).add(path.relative_to(root).as_posix())
    return found


def local_modules(root: Path) -> set[str]:
    """The package, and the modules and folders of the checkout that scripts and tests import
    by name (conftest, servers, synthetic; serve.test_ui)."""
    names = {"rag"}
    for path in _files(root, SOURCES):
        names.update(path.relative_to(root).with_suffix("").parts)
    return names


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(pyproject: dict) -> tuple[set[str], set[str]]:
    """(distributions the runtime may use: dependencies and every extra but dev; all declared ones)."""
    project = pyproject["project"]
    extras: dict[str, list[str]] = project.get("optional-dependencies", {})

    def names(requirements: list[str], seen: frozenset[str] = frozenset()) -> set[str]:
        out = set()
        for requirement in requirements:
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", requirement)
            name = _normalise(match.group(1))
            if name == _normalise(project["name"]):  # "rag[server]": that extra's requirements
                for extra in (e.strip() for e in (match.group(2) or "").split(",") if e.strip()):
                    if extra not in seen:
                        out |= names(extras.get(extra, []), seen | {extra})
            else:
                out.add(name)
        return out

    runtime = names(project.get("dependencies", []))
    for extra, requirements in extras.items():
        if extra != DEV_EXTRA:
            runtime |= names(requirements, frozenset({extra}))
    return runtime, runtime | names(extras.get(DEV_EXTRA, []), frozenset({DEV_EXTRA}))


def undeclared(root: Path, pyproject: dict, distributions: dict[str, list[str]]) -> list[str]:
    """One line per imported third-party module whose distribution pyproject.toml does not declare."""
    runtime, everything = declared(pyproject)
    runtime_files = {p.relative_to(root).as_posix() for p in _files(root, RUNTIME)}
    local = local_modules(root)
    problems = []
    for module, files in sorted(imports(root, SOURCES).items()):
        if module in sys.stdlib_module_names or module in local or module in UNDECLARED:
            continue
        dists = {_normalise(d) for d in distributions.get(module, [])}
        needed_at_runtime = bool(files & runtime_files)
        allowed = runtime if needed_at_runtime else everything
        where = ", ".join(sorted(files)[:3])
        if not dists:
            problems.append(f"{module} (imported by {where}) is not installed")
        elif not dists & allowed:
            section = "[project.dependencies]" if needed_at_runtime else f"the {DEV_EXTRA} extra"
            problems.append(f"{module} (imported by {where}): declare {' or '.join(sorted(dists))} in {section}")
    return problems


def test_every_imported_package_is_declared():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    problems = undeclared(ROOT, pyproject, importlib.metadata.packages_distributions())
    assert not problems, "\n".join(problems)


def _pyproject(dependencies: list[str], **extras: list[str]) -> dict:
    return {"project": {"name": "rag", "dependencies": dependencies, "optional-dependencies": extras}}


def test_an_undeclared_import_is_found(tmp_path: Path):
    """Lazy imports count, and a runtime import declared only for development does not pass."""
    for path, text in {
        "rag/encoder.py": "def encode():\n    from tokenizers import Tokenizer\n",
        "tests/conftest.py": "",
        "tests/test_x.py": "import pytest\nimport conftest\nfrom rag import encoder\n",
    }.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text(text)
    distributions = {"tokenizers": ["tokenizers"], "pytest": ["pytest"]}

    assert undeclared(tmp_path, _pyproject(["Tokenizers>=0.20"], dev=["pytest"]), distributions) == []
    # an optional feature's extra counts for the runtime, also through "rag[feature]"
    assert undeclared(tmp_path, _pyproject([], dev=["pytest>=8", "rag[fast]"], fast=["tokenizers"]), distributions) == []
    assert undeclared(tmp_path, _pyproject([], dev=["tokenizers"]), distributions) == [
        "pytest (imported by tests/test_x.py): declare pytest in the dev extra",
        "tokenizers (imported by rag/encoder.py): declare tokenizers in [project.dependencies]",
    ]
    (tmp_path / "tests" / "test_x.py").write_text("import nosuchpackage\n")
    assert undeclared(tmp_path, _pyproject(["tokenizers"]), distributions) == [
        "nosuchpackage (imported by tests/test_x.py) is not installed"
    ]
