"""Settings layering: defaults < config file < RAG_* environment < CLI flags. Pure and fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.errors import ConfigError
from rag.core.settings import Settings, config_file, load_settings


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No ./rag.toml and no ~/.config/rag/config.toml from the machine running the tests."""
    work = tmp_path / "work"
    home = tmp_path / "home"
    work.mkdir()
    home.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    return work, home


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_layer():
    s = load_settings({})
    assert s == Settings()
    assert s.top_k == 5 and s.retriever == "hybrid" and s.model == "smollm2"
    assert config_file({}) is None


def test_each_layer_overrides_the_one_below(tmp_path):
    cfg = write(tmp_path / "c.toml", "top_k = 7\nretriever = 'bm25'\nchunk_tokens = 96\ntemperature = 0.5\n")
    env = {"RAG_CONFIG": str(cfg)}
    # file over defaults
    s = load_settings(env)
    assert (s.top_k, s.retriever, s.chunk_tokens, s.temperature) == (7, "bm25", 96, 0.5)
    # environment over file (only what it sets)
    s = load_settings({**env, "RAG_TOP_K": "9", "RAG_TEMPERATURE": "0.25"})
    assert (s.top_k, s.retriever, s.chunk_tokens, s.temperature) == (9, "bm25", 96, 0.25)
    # flags over environment; None means "flag not given"
    s = load_settings({**env, "RAG_TOP_K": "9"}, top_k=3, retriever=None)
    assert (s.top_k, s.retriever) == (3, "bm25")
    # a flag alone, over defaults
    assert load_settings({}, top_k=2).top_k == 2


def test_rag_table_and_discovered_files(isolated, tmp_path):
    work, home = isolated
    write(home / ".config" / "rag" / "config.toml", "top_k = 4\n")
    assert load_settings({}).top_k == 4
    # ./rag.toml wins over the home config
    write(work / "rag.toml", "[rag]\ntop_k = 6\nretriever = 'dense'\n")
    s = load_settings({})
    assert (s.top_k, s.retriever) == (6, "dense")
    # $RAG_CONFIG wins over both
    explicit = write(tmp_path / "explicit.toml", "top_k = 8\n")
    assert load_settings({"RAG_CONFIG": str(explicit)}).top_k == 8
    assert config_file({"RAG_CONFIG": str(explicit)}) == explicit


def test_paths_are_expanded_and_empty_optional_path_is_none(isolated):
    _, home = isolated
    s = load_settings({"RAG_INDEX_DIR": "~/idx", "RAG_MODEL_DIR": ""})
    assert s.index_dir == home / "idx"
    assert s.model_dir is None
    assert load_settings({}, index_dir=Path("/x/y")).index_dir == Path("/x/y")


def test_unrelated_rag_variables_are_ignored():
    assert load_settings({"RAG_DEBUG": "1", "RAG_TEST_HIDE": "x"}) == Settings()


def test_unknown_key_in_config_file(tmp_path):
    cfg = write(tmp_path / "c.toml", "top_k = 3\nfrobnicate = 1\n")
    with pytest.raises(ConfigError, match=r"c\.toml: unknown setting\(s\) frobnicate"):
        load_settings({"RAG_CONFIG": str(cfg)})


def test_unknown_override():
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings().with_overrides(nonsense=1)


@pytest.mark.parametrize(
    "env, needle",
    [
        ({"RAG_TOP_K": "abc"}, "top_k must be int"),
        ({"RAG_TOP_K": "2.5"}, "top_k must be int"),
        ({"RAG_TOP_K": ""}, "top_k must be int"),
        ({"RAG_TOP_K": "0"}, "top_k must be at least 1"),
        ({"RAG_TOP_K": "-3"}, "top_k must be at least 1"),
        ({"RAG_TEMPERATURE": "warm"}, "temperature must be float"),
        ({"RAG_RETRIEVER": "magic"}, "retriever must be one of"),
        ({"RAG_CHUNK_TOKENS": "8"}, "chunk_tokens must be at least 16"),
        ({"RAG_CHUNK_OVERLAP": "128"}, "chunk_overlap must be"),
    ],
)
def test_bad_environment_values(env, needle):
    with pytest.raises(ConfigError, match=needle) as info:
        load_settings(env)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "toml, needle",
    [
        ("top_k = 2.9\n", "top_k must be int"),  # not silently truncated to 2
        ("top_k = true\n", "top_k must be int"),  # not silently 1
        ("top_k = 'x'\n", "top_k must be int"),
        ("temperature = false\n", "temperature must be float"),
        ("model = 5\n", "model must be str"),
    ],
)
def test_wrongly_typed_file_values_are_refused(tmp_path, toml, needle):
    cfg = write(tmp_path / "c.toml", toml)
    with pytest.raises(ConfigError, match=needle):
        load_settings({"RAG_CONFIG": str(cfg)})


def test_file_values_of_the_right_type(tmp_path):
    cfg = write(tmp_path / "c.toml", "top_k = 3\ntemperature = 1\nmodel = 'gemma3'\n")
    s = load_settings({"RAG_CONFIG": str(cfg)})
    assert (s.top_k, s.temperature, s.model) == (3, 1.0, "gemma3")


def test_missing_and_malformed_config_files(tmp_path):
    with pytest.raises(ConfigError, match="not a file"):
        load_settings({"RAG_CONFIG": str(tmp_path / "absent.toml")})
    bad = write(tmp_path / "bad.toml", "top_k = = 3\n")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings({"RAG_CONFIG": str(bad)})
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00top_k")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings({"RAG_CONFIG": str(binary)})


def test_documents_come_as_a_list_or_comma_separated(tmp_path) -> None:
    from rag.core.settings import load_settings

    config = tmp_path / "rag.toml"
    config.write_text('documents = ["003", "cq08*"]\n', encoding="utf-8")
    assert load_settings({"RAG_CONFIG": str(config)}).documents == ("003", "cq08*")
    assert load_settings({"RAG_CONFIG": str(config), "RAG_DOCUMENTS": "000, 002_b ,"}).documents == ("000", "002_b")
    assert load_settings({"RAG_CONFIG": str(config)}, documents=("001",)).documents == ("001",)
    config.write_text("documents = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="documents must be"):
        load_settings({"RAG_CONFIG": str(config)})
