"""The question-answering pipeline: retrieve -> select evidence -> prompt -> generate -> cite.

`Pipeline` owns the loaded index, the embedder and (lazily) the answer model,
so one instance serves many questions. Correctness does not rest on the
small model following instructions: its output is constrained to one short
line, then grounded in the passages; an answer no passage supports, or a
question no passage is relevant to, ends in an abstention.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator

from . import store
from .citing import Grounding, ground
from .config import Settings
from .embedding import Embedder
from .evidence import Passage, select_passages
from .generation import GenerationSettings, Generator
from .prompting import format_passages, load_fragment, load_template
from .records import Answer, Citation, Hit
from .retrieval import RetrievalSettings, Retriever

ABSTAIN = "The documents do not say."
NOT_FOUND = "NOT FOUND"
# One line, no brackets: the model cannot fake citations or ramble past a newline.
ANSWER_GRAMMAR = r"""root ::= [^\n\[\]] [^\n\[\]]*"""


class QuestionError(Exception):
    """A question that cannot be asked; the message is one line for the user."""


class Pipeline:
    def __init__(self, settings: Settings, generator: Generator | None = None, embedder: Embedder | None = None):
        self.settings = settings
        self.index = store.load(settings.index_dir)
        self.embedder = embedder or Embedder(settings.embedding_model, batch_size=settings.embed_batch_size)
        if self.index.manifest.embedding_model != settings.embedding_model:
            raise store.IndexCorruptError(
                f"index in {settings.index_dir} was built with {self.index.manifest.embedding_model}, "
                f"not {settings.embedding_model}; rebuild it with `rag ingest --rebuild`"
            )
        self.retriever = Retriever(self.index, self.embedder)
        self._generator = generator
        self.template = load_template(settings.prompts_dir, "answer")
        self.passage_fragment = load_fragment(settings.prompts_dir, "passage")

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            s = self.settings
            self._generator = Generator(s.model, n_ctx=s.n_ctx, n_threads=s.n_threads, seed=s.seed)
        return self._generator

    # ------------------------------------------------------------ stages

    def check_question(self, question: str) -> str:
        question = " ".join(question.split())
        if not question:
            raise QuestionError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"the question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars} (max_question_chars)"
            )
        return question

    def retrieve(self, question: str, mode: str | None = None, top_k: int | None = None) -> list[Hit]:
        s = self.settings
        rs = RetrievalSettings(
            mode=mode or s.retriever,
            top_k=top_k or s.top_k,
            candidates=s.candidates,
            rrf_k=s.rrf_k,
            dense_weight=s.dense_weight,
            bm25_weight=s.bm25_weight,
        )
        return self.retriever.search(question, rs)

    def build_prompt(self, question: str, passages: list[Passage]) -> str:
        """The chat prompt, dropping trailing passages until it fits the context window."""
        budget = self.settings.n_ctx - self.settings.max_answer_tokens - 8
        for keep in range(len(passages), 0, -1):
            block = format_passages(self.passage_fragment, [(p.n, p.title, p.text) for p in passages[:keep]])
            system, user = self.template.render(passages=block, question=question)
            prompt = self.generator.format_chat(system, user)
            if self.generator.count_tokens(prompt) <= budget:
                return prompt
        raise QuestionError(
            f"the question does not fit the model's context of {self.settings.n_ctx} tokens; shorten it"
        )

    # ------------------------------------------------------------ the whole path

    def ask(self, question: str, on_token: Callable[[str], None] | None = None, **overrides) -> Answer:
        """Answer one question; `on_token` receives the model's text as it streams."""
        settings = self.settings.with_overrides(**overrides) if overrides else self.settings
        timings: dict[str, float] = {}
        question = self.check_question(question)
        with _timed(timings, "retrieve"):
            hits = self.retrieve(question, settings.retriever, settings.top_k)
        answer = Answer(question=question, answer=ABSTAIN, abstained=True, retrieved=hits, timings=timings)
        if not hits:
            return _finish(answer, timings)
        with _timed(timings, "evidence"):
            query_vec = self.embedder.encode_query(question)
            passages = select_passages(
                question, query_vec, hits, self.index.documents, self.embedder, settings.context_passages
            )
        best = max(p.relevance for p in passages)
        if best < settings.abstain_threshold:
            return _finish(answer, timings)
        with _timed(timings, "prompt"):
            prompt = self.build_prompt(question, passages)
        with _timed(timings, "generate"):
            gen = GenerationSettings(
                max_tokens=settings.max_answer_tokens,
                temperature=settings.temperature,
                grammar=ANSWER_GRAMMAR,
            )
            pieces = []
            for piece in self.generator.stream(prompt, gen):
                pieces.append(piece)
                if on_token is not None:
                    on_token(piece)
            draft = "".join(pieces).strip()
        answer.draft = draft
        with _timed(timings, "cite"):
            if draft.upper().startswith(NOT_FOUND) or not draft:
                return _finish(answer, timings)
            grounding = ground(draft, passages)
            if grounding.grounded:
                answer.answer, answer.citations = _cite(grounding)
                answer.abstained = False
        return _finish(answer, timings)


def _cite(grounding: Grounding, max_citations: int = 2) -> tuple[str, list[Citation]]:
    """The answer text with [n] markers, and the citations they point at."""
    by_passage: dict[int, list] = {}
    for support in grounding.supports:
        by_passage.setdefault(support.passage.n, []).append(support)
    citations = []
    for n, supports in list(by_passage.items())[:max_citations]:
        passage = supports[0].passage
        chunk = passage.hit.chunk
        citations.append(
            Citation(
                n=n,
                doc_id=chunk.doc_id,
                title=passage.title,
                start=chunk.start,
                end=chunk.end,
                text=chunk.text,
                support=((supports[0].sentence.start, supports[0].sentence.end),),
            )
        )
    markers = "".join(f" [{c.n}]" for c in citations)
    text = grounding.text.rstrip(" .;,")
    return f"{text}{markers}", citations


def _finish(answer: Answer, timings: dict[str, float]) -> Answer:
    timings["total"] = round(sum(v for k, v in timings.items() if k != "total"), 2)
    return answer


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round((time.perf_counter() - start) * 1000, 2)
