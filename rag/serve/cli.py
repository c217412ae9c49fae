"""The `rag` command line: ingest, ask, export, conversations, eval, serve, config.

Every expected failure ends in one line on stderr and a non-zero exit;
tracebacks are shown only with RAG_DEBUG=1.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from rag.core.errors import ConfigError, RagError
from rag.core.settings import Settings, load_settings
from rag.ingestion.sentences import unwrap_soft

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Ask questions about a folder of documents, answered offline with cited passages.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
# soft_wrap: a message is never broken at the (default 80) console width, so every
# error, warning and summary stays one line when stdout/stderr is a pipe or a file.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn failures into one line and an exit code: a RagError's own, else "unexpected", exit 1."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130)
    except RagError as exc:
        if os.environ.get("RAG_DEBUG"):
            raise
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug: one line, and the traceback with RAG_DEBUG=1
        if os.environ.get("RAG_DEBUG"):
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        err.print(f"[red]unexpected {type(exc).__name__}:[/red] {escape(message)}")
        raise typer.Exit(1)


def _settings(ctx: typer.Context, **overrides) -> Settings:
    base: Settings = ctx.obj
    return base.with_overrides(**overrides)


@app.callback()
def main(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", help="TOML config file (else $RAG_CONFIG, ./rag.toml)."),
    index_dir: Path | None = typer.Option(None, "--index-dir", help="Where the index lives."),
) -> None:
    """Defaults < config file < RAG_* environment < these flags < command flags."""
    from rag.core.openmp import choose_wait_policy

    choose_wait_policy()  # before any command loads llama.cpp, FAISS or torch (rag/core/openmp.py)
    with _errors():
        env = dict(os.environ)
        if config is not None:
            env["RAG_CONFIG"] = str(config)
        ctx.obj = load_settings(env, index_dir=index_dir)


# ---------------------------------------------------------------- ingest


class _RateColumn(ProgressColumn):
    """Items per second, blank until rich has a speed estimate."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "", style="dim")


class _IngestBar:
    """Rich progress: documents done, chunks and then sentences embedded, rate, ETA."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.docs = None
        self.chunks = None
        self.sentences = None

    def start(self, documents: int) -> None:
        self.docs = self.progress.add_task("documents", total=documents)
        self.chunks = self.progress.add_task("chunks embedded", total=None)
        self._chunk_total = 0

    def document_done(self, chunks: int) -> None:
        self.progress.advance(self.docs)
        self._chunk_total += chunks
        self.progress.update(self.chunks, total=self._chunk_total)

    def chunks_embedded(self, n: int) -> None:
        self.progress.advance(self.chunks, n)

    def chunks_resumed(self, n: int) -> None:
        """Vectors an interrupted ingest saved: shown as done, kept out of the rate and ETA."""
        self.progress.reset(self.chunks, total=self._chunk_total, completed=n)

    def sentences_started(self, total: int) -> None:
        self.sentences = self.progress.add_task("sentences embedded", total=total)

    def sentences_embedded(self, n: int) -> None:
        self.progress.advance(self.sentences, n)


@app.command()
def ingest(
    ctx: typer.Context,
    folder: Path | None = typer.Argument(None, help="Collection folder (default: the configured collection)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild from scratch (also repairs a corrupt index)."),
    chunk_tokens: int | None = typer.Option(None, help="Target chunk size in tokens."),
    chunk_overlap: int | None = typer.Option(None, help="Overlap between chunks in tokens."),
) -> None:
    """Index a folder of .txt/.md/.html/.pdf files; only new and changed files are embedded."""
    with _errors():
        from rag.ingestion.indexer import ingest as run_ingest

        settings = _settings(ctx, chunk_tokens=chunk_tokens, chunk_overlap=chunk_overlap)
        folder = folder or settings.collection
        columns = (
            TextColumn("{task.description:>16}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            report = run_ingest(settings, folder, rebuild=rebuild, progress=_IngestBar(bar))
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/yellow] {escape(warning)}")
        if report.rebuilt:
            err.print(f"full rebuild: {escape(report.rebuilt)}")
        out.print(f"{report.summary()} -> {settings.index_dir}")


# ---------------------------------------------------------------- ask


@app.command()
def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="The question, in quotes."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (see README: JSON output)."),
    retriever: str | None = typer.Option(None, "--retriever", help="dense | bm25 | hybrid"),
    top_k: int | None = typer.Option(None, "--top-k", help="Passages to retrieve."),
    model: str | None = typer.Option(None, "--model", help="smollm2, gemma3, or a path to a GGUF file."),
    temperature: float | None = typer.Option(None, "--temperature"),
    stream: bool = typer.Option(True, "--stream/--no-stream", help="Show tokens as they are generated."),
    doc: list[str] | None = typer.Option(
        None, "--doc", metavar="ID", help="Ask only this document (ID, prefix or glob); repeat for several."
    ),
    conversation: str | None = typer.Option(
        None, "--conversation", "-c", metavar="NAME",
        help="Continue the saved conversation NAME (a follow-up is rewritten from its last turn) and save "
        "this turn in it; a new NAME starts one.",
    ),
) -> None:
    """Answer a question from the indexed collection, with cited passages."""
    with _errors():
        from rag.answer.pipeline import Pipeline, check_question

        settings = _settings(ctx, retriever=retriever, top_k=top_k, model=model, temperature=temperature,
                             documents=tuple(doc) if doc else None)  # fmt: skip
        check_question(question, settings.max_question_chars)  # before loading the index and models
        # a missing model package or GGUF fails now, not after retrieval (or never, on abstention)
        from rag.answer.generation.llama import resolve_model
        from rag.index.embedding import resolve_model_dir

        resolve_model_dir(settings.embedding_model)
        if settings.backend == "llama":  # backend "openai": the model lives on the server at base_url
            resolve_model(settings.model)
        pipeline = Pipeline(settings)
        pipeline.scope(settings.documents)  # an unknown --doc fails before the answer model loads
        streamed = []

        def on_token(piece: str) -> None:
            if not streamed:
                err.print("[dim]draft:[/dim] ", end="")
            streamed.append(piece)
            err.print(f"[dim]{escape(piece)}[/dim]", end="")

        token = on_token if stream and not as_json else None
        readable = True
        if conversation is None:
            answer, rewrite = pipeline.ask(question, on_token=token), None
        else:
            answer, rewrite, readable = _ask_in_conversation(pipeline, conversation, question, token)
        if streamed:
            err.print()
        from rag.serve.history import answer_record

        data = answer_record(answer, pipeline.index.documents, rewrite)
        if as_json:
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        else:
            _print_answer(answer, pipeline.index.documents)
        if conversation is not None and readable:
            _save_turn(pipeline.settings, conversation, question, data)


def _ask_in_conversation(pipeline, name: str, question: str, on_token):
    """`rag ask --conversation NAME`: a follow-up rewritten from NAME's last turn, as the web UI does
    from its history. A store that cannot be read is one warning: the question is asked on its own
    and not saved. (answer, rewrite, whether the store could be read)"""
    from rag.answer.prompting import load_template
    from rag.serve.chat import answer_turn
    from rag.serve.history import ConversationStore

    previous, readable = None, True
    store = ConversationStore.in_index(pipeline.settings.index_dir)
    try:
        found = store.find(name)
        turns = store.turns(found.key) if found else []
        previous = turns[-1].as_turn() if turns else None
    except RagError as exc:
        err.print(f"[yellow]warning:[/yellow] {escape(exc.message)}; the question is asked on its own, "
                  "and its answer not saved")
        readable = False

    def shown(rewrite) -> None:
        err.print(f"[dim]rewritten ({rewrite.method}):[/dim] {escape(rewrite.standalone)}")

    template = load_template(pipeline.settings.prompts_dir, "rewrite")
    answer, rewrite = answer_turn(pipeline, template, question, previous, {}, on_rewrite=shown, on_token=on_token)
    return answer, rewrite, readable


def _save_turn(settings: Settings, name: str, question: str, data: dict) -> None:
    """Add the answered turn to conversation NAME (made when new); a failure is one warning line."""
    from rag.serve.history import ConversationStore, StoredTurn, new_key

    store = ConversationStore.in_index(settings.index_dir)
    try:
        found = store.find(name)
        saved = store.append(found.key if found else new_key(), StoredTurn(question, data, time.time()), name,
                             exact=True)
    except RagError as exc:
        err.print(f"[yellow]warning:[/yellow] this answer was not saved: {escape(exc.message)}")
        return
    err.print(f"[dim]saved as turn {saved.turns} of conversation {escape(repr(saved.name))}[/dim]")


def _print_answer(answer, documents) -> None:
    style = "yellow" if answer.abstained else "bold green"
    label = "No answer" if answer.abstained else "Answer"
    out.print(f"[{style}]{label}:[/{style}] {escape(answer.answer)}")
    for c in answer.citations:
        doc = documents[c.doc_id]
        out.print()
        date = f", {doc.date}" if doc.date else ""
        out.print(f"[bold][{c.n}][/bold] {escape(c.title)} [dim]({c.doc_id}{date}; chars {c.start}-{c.end})[/dim]")
        out.print("    " + _marked(doc.text, c.start, c.end, c.support), soft_wrap=False)
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in answer.timings.items())
    out.print(f"\n[dim]{timings}[/dim]")


def _marked(text: str, start: int, end: int, support) -> str:
    """Passage text with the supporting sentence(s) underlined and bracketed by » «; a line wrapped
    inside a clause (a paper converted from PDF) is shown joined, for the terminal to wrap."""
    text = text[:start] + unwrap_soft(text[start:end]) + text[end:]  # same length: offsets hold
    pieces, cursor = [], start
    for s, e in sorted(support):
        pieces.append(escape(text[cursor:s]))
        pieces.append(f"[bold underline]»{escape(text[s:e])}«[/bold underline]")
        cursor = e
    pieces.append(escape(text[cursor:end]))
    return "".join(pieces)


# ---------------------------------------------------------------- summarize


@app.command()
def summarize(
    ctx: typer.Context,
    doc: str | None = typer.Argument(None, metavar="ID", help="The document: its ID, an ID prefix or a glob."),
    all_documents: bool = typer.Option(False, "--all", help="The whole collection, grouped by topic."),
    sentences: int | None = typer.Option(
        None, "--sentences", min=1, help="Sentences per summary (default 5; with --all, 2 per document)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (see README: Summaries)."),
) -> None:
    """An extractive summary: the document's own central sentences, in order, each with its span."""
    with _errors():
        from rag.answer.pipeline import Pipeline
        from rag.core.contract import summary_to_json, topics_to_json

        if (doc is None) == (not all_documents):
            raise ConfigError("name one document (rag summarize ID) or the whole collection (rag summarize --all)")
        settings = _settings(ctx)
        from rag.index.embedding import resolve_model_dir

        resolve_model_dir(settings.embedding_model)
        pipeline = Pipeline(settings)  # the answer model is not loaded: nothing is generated
        if all_documents:
            topics = pipeline.collection_summary(sentences or ALL_SENTENCES)
            if as_json:
                sys.stdout.write(json.dumps(topics_to_json(topics), ensure_ascii=False) + "\n")
                return
            for i, topic in enumerate(topics, start=1):
                out.print(f"[bold]Topic {i}[/bold] [dim]({escape(', '.join(topic.terms))})[/dim]")
                for summary in topic.summaries:
                    _print_summary(summary, indent="  ")
            return
        summary = pipeline.summary(doc, sentences)
        if as_json:
            sys.stdout.write(json.dumps(summary_to_json(summary), ensure_ascii=False) + "\n")
            return
        _print_summary(summary)


ALL_SENTENCES = 2  # per document, for `rag summarize --all`


def _print_summary(summary, indent: str = "") -> None:
    out.print(f"{indent}[bold]{escape(summary.title)}[/bold] [dim]({summary.doc_id})[/dim]")
    for s in summary.sentences:
        out.print(f"{indent}  {escape(' '.join(s.text.split()))} [dim]({summary.doc_id}; chars {s.start}-{s.end})[/dim]")


# ---------------------------------------------------------------- conversations


@app.command("export")
def export_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The conversation's name (`rag conversations` lists them)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the Markdown here instead of stdout."),
) -> None:
    """Print a saved conversation as Markdown: each answer's citations as footnotes quoting the documents."""
    with _errors():
        from rag.serve.export import conversation_markdown
        from rag.serve.history import ConversationStore

        store = ConversationStore.in_index(ctx.obj.index_dir)
        found = store.named(name)
        text = conversation_markdown(found, store.turns(found.key))
        if output is None:
            sys.stdout.write(text)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {output}: {exc.strerror or exc}") from None
        err.print(f"wrote {escape(str(output))} ({found.turns} questions)")


@app.command("conversations")
def conversations_command(
    ctx: typer.Context,
    rename: tuple[str, str] | None = typer.Option(None, "--rename", metavar="OLD NEW", help="Rename a conversation."),
    delete: str | None = typer.Option(None, "--delete", metavar="NAME", help="Delete a conversation."),
) -> None:
    """List the saved conversations (the web UI's and `rag ask --conversation`'s), newest first."""
    with _errors():
        from rag.serve.history import ConversationStore

        store = ConversationStore.in_index(ctx.obj.index_dir)
        if rename:
            renamed = store.rename(store.named(rename[0]).key, rename[1])
            err.print(f"renamed {escape(repr(rename[0]))} to {escape(repr(renamed.name))}")
        if delete:
            store.delete(store.named(delete).key)
            err.print(f"deleted {escape(repr(delete))}")
        for c in store.conversations():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated))
            out.print(f"{when}  {c.turns:>3} question{'s' if c.turns != 1 else ' '}  {escape(c.name)}")


# ---------------------------------------------------------------- eval


class _EvalBar:
    """Rich progress: questions done / total, elapsed, ETA."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = None

    def start(self, total: int) -> None:
        self.task = self.progress.add_task("evaluating", total=total)

    def advance(self, description: str) -> None:
        self.progress.update(self.task, advance=1, description=description)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    gold: Path | None = typer.Option(None, "--gold", help="Gold QA file, JSONL (default: the configured gold set)."),
    collection: Path | None = typer.Option(
        None, "--collection", help="Collection folder (default: the configured collection)."
    ),
    retriever: str | None = typer.Option(
        None, "--retriever", help="dense | bm25 | hybrid | all (default: the configured retriever)."
    ),
    predictions: Path | None = typer.Option(
        None, "--predictions", help="Write one `rag ask --json` object plus id per question (JSONL)."
    ),
    report_dir: Path = typer.Option(
        Path("reports/eval"), "--report", help="Folder for report.json, report.md and report.png."
    ),
    check: Path | None = typer.Option(
        None, "--check", help="Quality gate: exit 3 when a gated metric falls below this baseline."
    ),
    write_baseline: Path | None = typer.Option(
        None, "--write-baseline", help="Write this run's metrics as a gate baseline (e.g. eval/baseline.json)."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Evaluate only the first N questions."),
    suite: Path | None = typer.Option(
        None, "--suite", help="Evaluate every collection of this suite file (eval/suite.toml), one row each."
    ),
    write_baselines: bool = typer.Option(
        False, "--write-baselines", help="With --suite: write each collection's run as its gate baseline."
    ),
) -> None:
    """Score the pipeline against a gold QA set: retrieval, answers, citations, latency."""
    if suite is not None:
        alone = {"--gold": gold, "--collection": collection, "--retriever": retriever, "--predictions": predictions,
                 "--check": check, "--write-baseline": write_baseline}
        with _errors():
            given = [flag for flag, value in alone.items() if value is not None]
            if given:
                raise ConfigError(f"--suite takes each collection's own settings; drop {given[0]}")
            _eval_suite(ctx.obj, suite, report_dir, limit, write_baselines)
        return
    if write_baselines:
        with _errors():
            raise ConfigError("--write-baselines goes with --suite; for one collection use --write-baseline FILE")
    with _errors():
        from rag.eval.report import print_gate, print_tables
        from rag.eval.session import EvalRequest, run_session

        request = EvalRequest(gold=gold, collection=collection, retriever=retriever, predictions=predictions,
                              report_dir=report_dir, check=check, write_baseline=write_baseline, limit=limit)
        result = run_session(ctx.obj, request, _eval_progress())
        _print_gold_warnings(result.run.warnings)
        print_tables(result.run, out)
        for warning in result.warnings:
            err.print(f"[yellow]warning:[/yellow] {escape(warning)}")
        out.print(f"[dim]wrote {', '.join(escape(str(p)) for p in result.written)}[/dim]")
        if result.gate is not None:
            print_gate(result.gate, out, err)
            if not result.gate.passed:
                raise typer.Exit(3)


def _eval_suite(settings: Settings, suite: Path, report_dir: Path, limit: int | None, write: bool = False) -> None:
    """`rag eval --suite`: each collection in turn, then one table; exit 3 when a collection's gate fails."""
    from rag.eval.report import print_gate, print_suite, suite_markdown
    from rag.eval.suite import load_suite, run_suite

    entries = load_suite(suite)
    chosen = settings.index_dir if settings.index_dir != Settings().index_dir else None  # --index-dir & co.
    results = run_suite(settings, entries, report_dir, index_root=chosen, limit=limit,
                        progress=lambda entry: _eval_progress(), write_baselines=write)
    rows = [(r.entry.name, r.result.run, r.result.gate) for r in results]
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "suite.md").write_text(suite_markdown(rows), encoding="utf-8")
    print_suite(rows, out)
    for r in results:
        if r.result.gate is not None and not r.passed:
            err.print(f"[red]{escape(r.entry.name)}:[/red]")
            print_gate(r.result.gate, out, err)
    out.print(f"[dim]wrote {escape(str(report_dir / 'suite.md'))} and a report folder per collection[/dim]")
    if not all(r.passed for r in results):
        raise typer.Exit(3)


def _eval_progress():
    """Progress bars for the two stages of `rag eval`, and the indexing summary between them."""
    from rag.eval.session import SessionProgress

    @contextmanager
    def indexing() -> Iterator[_IngestBar]:
        columns = (TextColumn("{task.description:>16}"), BarColumn(), MofNCompleteColumn(), _RateColumn())
        with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as bar:
            yield _IngestBar(bar)

    def indexed(report, settings: Settings) -> None:
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/yellow] {escape(warning)}")
        if report.added or report.changed or report.removed:
            err.print(f"indexed {escape(str(settings.collection))}: {report.summary()} -> {settings.index_dir}")

    @contextmanager
    def evaluating() -> Iterator[_EvalBar]:
        columns = (
            TextColumn("{task.description:>16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            yield _EvalBar(bar)

    return SessionProgress(indexing, indexed, evaluating)


def _print_gold_warnings(warnings: list[str], shown: int = 10) -> None:
    for warning in warnings[:shown]:
        err.print(f"[yellow]warning:[/yellow] gold {escape(warning)}")
    if len(warnings) > shown:
        err.print(f"[yellow]warning:[/yellow] ... and {len(warnings) - shown} more gold warnings")


# ---------------------------------------------------------------- serve


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
    port: int | None = typer.Option(None, "--port", help="Port (default: 7860 for the UI, 8000 with --api)."),
    auth: str | None = typer.Option(None, "--auth", metavar="USER:PASSWORD", help="Require this login."),
    api: bool = typer.Option(False, "--api", help="Serve the HTTP API (OpenAI-compatible) instead of the UI."),
    with_api: bool = typer.Option(False, "--with-api", help="Serve the UI and, under /v1, the HTTP API."),
    api_key_env: str | None = typer.Option(
        None, "--api-key-env", metavar="NAME", help="The API requires the key in this environment variable."
    ),
) -> None:
    """Start the web UI (the same as `python app.py`), with --with-api the HTTP API beside it, or with --api the API alone."""
    with _errors():
        if api and with_api:
            raise ConfigError("--api serves the API alone, --with-api the UI and the API: choose one")
        if api:
            from rag.serve.api import serve_api

            if auth:
                raise ConfigError("--auth is the UI's login; the API takes a bearer key: --api-key-env NAME")

            raise typer.Exit(serve_api(ctx.obj, host=host, port=port or 8000, api_key_env=api_key_env))
        if api_key_env and not with_api:
            raise ConfigError("--api-key-env is for the API: add --with-api (UI and API) or --api (API alone)")
        port = port or 7860
        from rag.serve.webui import serve as run_server

        raise typer.Exit(
            run_server(ctx.obj, host=host, port=port, auth=auth, with_api=with_api, api_key_env=api_key_env)
        )


# ---------------------------------------------------------------- config


@app.command("config")
def show_config(ctx: typer.Context) -> None:
    """Print the settings in force after every layer is applied."""
    with _errors():
        for key, value in ctx.obj.as_dict().items():
            out.print(f"{key} = {json.dumps(value)}")


def run() -> None:
    """The console script: usage errors become one `error:` line too, not a boxed usage text."""
    try:  # typer >= 0.2x vendors click; older releases use click itself
        from typer._click import exceptions as click_errors
    except ImportError:  # pragma: no cover
        from click import exceptions as click_errors

    try:
        code = app(standalone_mode=False)  # a command's typer.Exit(n) comes back as n
    except click_errors.NoArgsIsHelpError as exc:  # bare `rag`: the help is what was asked for
        out.print(exc.ctx.get_help() if exc.ctx else "")
        return
    except click_errors.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "rag"
        message = " ".join(exc.format_message().split())
        err.print(f"[red]error:[/red] {escape(message)} (see `{escape(command)} --help`)")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()
