"""The web UI: `python app.py [--host H] [--port P]` serves a chat on 127.0.0.1:7860.

A thin Gradio front end over `rag.pipeline.Pipeline`: the same answers,
citations and abstentions as `rag ask`.
"""

from __future__ import annotations

import argparse
import html
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

EXAMPLES = [
    "When did Chinese troops arrive in Belarus?",
    "How many troops did Russia send to Belarus for the joint exercises?",
    "Which think tank published the analysis on China studying Russian tactics through Belarus?",
]


def render_sources(answer, documents) -> str:
    """Numbered source cards with the supporting sentence highlighted (HTML-escaped)."""
    cards = []
    for c in answer.citations:
        doc = documents[c.doc_id]
        pieces, cursor = [], c.start
        for s, e in sorted(c.support):
            pieces.append(html.escape(doc.text[cursor:s]))
            pieces.append(f"<mark>{html.escape(doc.text[s:e])}</mark>")
            cursor = e
        pieces.append(html.escape(doc.text[cursor : c.end]))
        date = f" · {html.escape(doc.date)}" if doc.date else ""
        cards.append(
            f"<details open><summary><b>[{c.n}]</b> {html.escape(c.title)}"
            f" <small>({html.escape(c.doc_id)}{date}; chars {c.start}–{c.end})</small></summary>"
            f"<p>{''.join(pieces)}</p></details>"
        )
    return "\n".join(cards)


def build(pipeline):
    import gradio as gr

    def respond(message: str, history: list):
        from rag.pipeline import QuestionError

        try:
            draft: list[str] = []
            answer = pipeline.ask(message, on_token=draft.append)
        except QuestionError as exc:
            return f"⚠️ {exc}"
        if answer.abstained:
            return f"*{answer.answer}*"
        return f"**{html.escape(answer.answer)}**\n\n{render_sources(answer, pipeline.index.documents)}"

    return gr.ChatInterface(
        respond,
        title="Ask the collection",
        description="Answers come only from the indexed documents, each claim cited to its passage.",
        examples=EXAMPLES,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)

    from rag.config import load_settings
    from rag.pipeline import Pipeline

    try:
        pipeline = Pipeline(load_settings())
    except Exception as exc:  # noqa: BLE001 - one line, as everywhere
        print(f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    build(pipeline).queue(default_concurrency_limit=1).launch(server_name=args.host, server_port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
