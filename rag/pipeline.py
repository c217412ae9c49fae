"""The question-answering pipeline: retrieve -> select evidence -> prompt -> generate -> cite.

`Pipeline` owns the loaded index, the embedder and (lazily) the answer model,
so one instance serves many questions. Correctness does not rest on the
small model following instructions: its one-line draft only steers the
choice of a typed span copied verbatim from the evidence (rag/extraction.py);
a question no sentence is relevant to, or a typed question with no candidate
of its type, ends in an abstention.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from . import store
from .config import Settings
from .embedding import Embedder
from .evidence import Passage, ranked_sentences, select_passages
from .extraction import OTHER, best_sentence, extract, question_type
from .generation import GenerationSettings, Generator
from .prompting import format_passages, load_fragment, load_template
from .records import Answer, Citation, Hit
from .retrieval import RetrievalSettings, Retriever

ABSTAIN = "The documents do not say."
MAX_ANSWER_WORDS = 50
# One line, no brackets: the model cannot fake citations or ramble past a newline.
ANSWER_GRAMMAR = r"""root ::= [^\n\[\]] [^\n\[\]]*"""


class QuestionError(Exception):
    """A question that cannot be asked; the message is one line for the user."""


def check_question(question: str, max_chars: int) -> str:
    """The question with whitespace collapsed; needs no index or model, so callers can fail fast."""
    question = " ".join(question.split())
    if not question:
        raise QuestionError("the question is empty")
    if len(question) > max_chars:
        raise QuestionError(
            f"the question is {len(question)} characters long; the limit is "
            f"{max_chars} (max_question_chars)"
        )
    return question


class Pipeline:
    def __init__(self, settings: Settings, generator: Generator | None = None, embedder: Embedder | None = None):
        self.settings = settings
        self.index = store.load(settings.index_dir)
        if self.index.manifest.embedding_model != settings.embedding_model:  # before loading a model
            raise store.IndexCorruptError(
                f"index in {settings.index_dir} was built with {self.index.manifest.embedding_model}, "
                f"not {settings.embedding_model}; rebuild it with `rag ingest --rebuild`"
            )
        self.embedder = embedder or Embedder(settings.embedding_model, batch_size=settings.embed_batch_size)
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
        return check_question(question, self.settings.max_question_chars)

    def retrieve(
        self, question: str, mode: str | None = None, top_k: int | None = None, query_vec=None
    ) -> list[Hit]:
        s = self.settings
        rs = RetrievalSettings(
            mode=mode or s.retriever,
            top_k=top_k or s.top_k,
            candidates=s.candidates,
            rrf_k=s.rrf_k,
            dense_weight=s.dense_weight,
            bm25_weight=s.bm25_weight,
        )
        return self.retriever.search(question, rs, query_vec)

    def build_prompt(self, question: str, passages: list[Passage]) -> str:
        """The chat prompt, dropping trailing passages until it fits the context window."""
        budget = self.settings.n_ctx - self.settings.max_answer_tokens - 8
        for keep in range(len(passages), 0, -1):
            block = format_passages(self.passage_fragment, _excerpts(passages[:keep], self.settings.prompt_sentences))
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
            query_vec = self.embedder.encode_query(question)  # once, for retrieval and evidence
            hits = self.retrieve(question, settings.retriever, settings.top_k, query_vec)
        answer = Answer(question=question, answer=ABSTAIN, abstained=True, retrieved=hits, timings=timings)
        if not hits:
            return _finish(answer, timings)
        with _timed(timings, "evidence"):
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
            self._settle(answer, question, passages, draft, settings)
        return _finish(answer, timings)

    def _settle(self, answer: Answer, question: str, passages: list[Passage], draft: str, settings: Settings) -> None:
        """Turn the draft into a verbatim, cited answer, or leave the abstention in place."""
        span = extract(
            question,
            passages,
            draft,
            max_sentences=settings.extract_sentences,
            draft_weight=settings.draft_weight,
            relevance_weight=settings.relevance_weight,
        )
        if span is not None and span.sentence.relevance >= settings.abstain_threshold:
            text, support, passage = span.text, span.sentence, span.passage
        elif question_type(question).kind == OTHER:
            found = best_sentence(passages)
            if found is None or found[1].relevance < settings.abstain_threshold:
                return
            passage, support = found
            text = _clip_words(support.text, MAX_ANSWER_WORDS)
        else:
            return
        chunk = passage.hit.chunk
        citation = Citation(
            n=passage.n,
            doc_id=chunk.doc_id,
            title=passage.title,
            start=chunk.start,
            end=chunk.end,
            text=chunk.text,
            support=((support.start, support.end),),
        )
        answer.answer = f"{text.rstrip(' .;,')} [{passage.n}]"
        answer.citations = [citation]
        answer.abstained = False


def _excerpts(passages: list[Passage], limit: int) -> list[tuple[int, str, str]]:
    """The `limit` most relevant sentences, grouped under their passage numbers.

    A few sentences instead of whole chunks keep the prompt short: prompt
    evaluation dominates the small model's latency on two cores.
    """
    chosen: dict[int, list] = {}
    for passage, sentence in ranked_sentences(passages)[:limit]:
        chosen.setdefault(passage.n, []).append(sentence)
    titles = {p.n: p.title for p in passages}
    return [
        (n, titles[n], " … ".join(s.text for s in sorted(chosen[n], key=lambda s: s.start)))
        for n in sorted(chosen)
    ]


def _clip_words(text: str, limit: int) -> str:
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]) + " …"


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
