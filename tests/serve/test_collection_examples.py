"""The web UI's example questions come from the collection's collection.toml, not from code."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus"


def _chatbot_examples(collection: Path):
    import gradio as gr

    from rag.core.settings import Settings
    from rag.serve.webui import App, build

    demo = build(App(Settings(collection=collection), chat=None, collection=None, models={"smollm2": "SmolLM2"}))
    (chatbot,) = [block for block in demo.blocks.values() if isinstance(block, gr.Chatbot)]
    return chatbot.examples, chatbot.placeholder


def test_the_bundled_collection_offers_its_examples() -> None:
    examples, placeholder = _chatbot_examples(CORPUS)
    assert [e["text"] for e in examples][0] == "When did Chinese troops arrive in Belarus?"
    assert len(examples) == 3 and "start with an example" in placeholder


def test_a_collection_without_collection_toml_offers_no_examples(tmp_path) -> None:
    examples, placeholder = _chatbot_examples(tmp_path)
    assert not examples
    assert "example" not in placeholder and "Belarus" not in str(examples)
