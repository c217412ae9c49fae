"""The question-answering pipeline: retrieve -> select evidence -> prompt -> generate -> cite.

`Pipeline` owns the loaded index, the embedder and (lazily) the answer model,
so one instance serves many questions. Correctness does not rest on the
small model following instructions: its one-line draft only steers the
choice of a typed span copied verbatim from the evidence (rag/answer/extraction.py);
a question no sentence is relevant to, or a typed question with no candidate
of its type, ends in an abstention.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rag.answer.evidence import Passage, Sentence, ranked_sentences, select_passages
from rag.answer.extraction import OTHER, question_type, rank_spans
from rag.answer.generation.base import AnswerModel, GenerationSettings
from rag.answer.generation.factory import answer_model_key, load_answer_model
from rag.answer.grounding import context_of, missing_names
from rag.answer.prompting import format_passages, load_fragment, load_template
from rag.answer.retrieval import RetrievalSettings, Retriever
from rag.core.collection_info import read_collection_info
from rag.core.errors import QuestionError
from rag.core.records import Answer, Citation, Hit
from rag.core.settings import Settings
from rag.index import store
from rag.index.embedding import Embedder

ABSTAIN = "The documents do not say."
MAX_ANSWER_WORDS = 50
MAX_CANDIDATES = 8  # answer candidates checked for grounding before abstaining
# One line, no brackets: the model cannot fake citations or ramble past a newline.
ANSWER_FORBID = "\n[]"


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
    def __init__(
        self, settings: Settings, generator: AnswerModel | None = None, embedder: Embedder | None = None
    ):
        self.settings = settings
        self.index = store.load(settings.index_dir)
        if self.index.manifest.embedding_model != settings.embedding_model:  # before loading a model
            raise store.IndexCorruptError(
                f"index in {settings.index_dir} was built with {self.index.manifest.embedding_model}, "
                f"not {settings.embedding_model}; rebuild it with `rag ingest --rebuild`"
            )
        self.embedder = embedder or Embedder(settings.embedding_model, batch_size=settings.embed_batch_size)
        self.retriever = Retriever(self.index, self.embedder, settings)  # settings: the vector store
        self._generators: dict[tuple, AnswerModel] = {}
        if generator is not None:
            self._generators[answer_model_key(settings)] = generator
        self.template = load_template(settings.prompts_dir, "answer")
        self.collection_info = read_collection_info(settings.collection)  # the prompt's {description}
        self.passage_fragment = load_fragment(settings.prompts_dir, "passage")

    @property
    def generator(self) -> AnswerModel:
        """The configured answer model, loaded on first use."""
        return self.generator_for(self.settings)

    def generator_for(self, settings: Settings) -> AnswerModel:
        """The answer model `settings` selects (backend, model); each one is loaded once and kept.

        `backend = "llama"` loads the GGUF `model` in this process; `backend = "openai"`
        talks to the chat server at `base_url` (rag/answer/generation/remote.py).
        """
        key = answer_model_key(settings)
        if key not in self._generators:
            self._generators[key] = load_answer_model(settings)
        return self._generators[key]

    def reload(self) -> None:
        """Pick up the index version an ingest just wrote, keeping the loaded models."""
        index = store.load(self.settings.index_dir)
        self.index, self.retriever = index, Retriever(index, self.embedder, self.settings)

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

    def build_prompt(self, question: str, passages: list[Passage], settings: Settings | None = None) -> str:
        """The chat prompt, dropping trailing passages until it fits the context window.

        The prompt is whatever the answer model's `format_chat` makes of the system and
        user messages: the templated text for the in-process model, the messages
        themselves for a chat server; its `count_tokens` measures it against `n_ctx`.
        """
        settings = settings or self.settings
        generator = self.generator_for(settings)
        budget = settings.n_ctx - settings.max_answer_tokens - 8
        for keep in range(len(passages), 0, -1):
            block = format_passages(self.passage_fragment, _excerpts(passages[:keep], settings.prompt_sentences))
            system, user = self.template.render(
                passages=block, question=question, description=self.collection_info.description
            )
            prompt = generator.format_chat(system, user)
            if generator.count_tokens(prompt) <= budget:
                return prompt
        raise QuestionError(
            f"the question does not fit the model's context of {settings.n_ctx} tokens; shorten it"
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
            prompt = self.build_prompt(question, passages, settings)
        with _timed(timings, "generate"):
            gen = GenerationSettings(
                max_tokens=settings.max_answer_tokens,
                temperature=settings.temperature,
                forbid=ANSWER_FORBID,
            )
            pieces = []
            for piece in self.generator_for(settings).stream(prompt, gen):
                pieces.append(piece)
                if on_token is not None:
                    on_token(piece)
            draft = "".join(pieces).strip()
        answer.draft = draft
        with _timed(timings, "cite"):
            self._settle(answer, question, passages, draft, settings)
        return _finish(answer, timings)

    def _settle(self, answer: Answer, question: str, passages: list[Passage], draft: str, settings: Settings) -> None:
        """Turn the draft into a verbatim, cited answer, or leave the abstention in place.

        Candidates are tried best first; one whose context lacks a name the
        question mentions answers another question (rag/answer/grounding.py) and is
        passed over. None left means the documents do not say.
        """
        found = self._grounded(question, passages, draft, settings)
        if found is None:
            return
        text, support, passage = found
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

    def _grounded(
        self, question: str, passages: list[Passage], draft: str, settings: Settings
    ) -> tuple[str, Sentence, Passage] | None:
        """The best answer text whose supporting sentence is relevant and whose context is on topic."""
        spans = rank_spans(
            question,
            passages,
            draft,
            max_sentences=settings.extract_sentences,
            draft_weight=settings.draft_weight,
            relevance_weight=settings.relevance_weight,
        )
        if spans or question_type(question).kind != OTHER:
            candidates = [(span.text, span.sentence, span.passage) for span in spans]
        else:
            candidates = [
                (_clip_words(sentence.text, MAX_ANSWER_WORDS), sentence, passage)
                for passage, sentence in ranked_sentences(passages)
            ]
        for text, sentence, passage in candidates[:MAX_CANDIDATES]:
            if sentence.relevance < settings.abstain_threshold:
                continue
            doc = self.index.documents[passage.hit.chunk.doc_id]
            context = context_of(
                doc.text, (passage.hit.chunk.start, passage.hit.chunk.end), (sentence.start, sentence.end)
            )
            if not missing_names(question, context):
                return text, sentence, passage
        return None


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
