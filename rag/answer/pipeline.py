"""The question-answering pipeline: retrieve -> evidence -> candidates -> select -> (model score) -> cite.

`Pipeline` owns the loaded index, the embedder and (lazily) the answer model,
so one instance serves many questions. Correctness does not rest on the
small model following instructions: the answer is a candidate span copied
verbatim from the evidence (rag/answer/candidates.py), chosen by the fitted
selector (rag/answer/selection.py); the model only re-weighs the likeliest
candidates by their likelihood, says yes or no, and, when asked (`draft`),
writes a streamed draft. Below the selector's threshold the answer is an
abstention.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from rag.answer.about_collection import answer_about, recognise
from rag.answer.candidates import (
    CLAUSE,
    SENTENCE,
    Candidate,
    candidates,
    spelled_out,
    trimmed,
    without_counted_echo,
    without_echo,
    without_pointer,
)
from rag.answer.evidence import Passage, ranked_sentences, rerank, select_passages, terms
from rag.answer.extraction import chosen_alternative
from rag.answer.generation.base import AnswerModel, GenerationSettings
from rag.answer.generation.factory import answer_model_key, load_answer_model
from rag.answer.grounding import context_of
from rag.answer.ordering import OrderQuestion, date_key, earlier, order_question
from rag.answer.prompting import format_passages, load_fragment, load_template
from rag.answer.retrieval import RetrievalSettings, Retriever, promote_constrained
from rag.answer.selection import (
    SELECTOR_FILE,
    YES_NO,
    QuestionView,
    Selection,
    admitted,
    document_share,
    features,
    group_of,
    load_selection,
    logit,
    question_years,
    rarity_table,
    rescore_features,
    scored,
    sentence_evidence,
    view_question,
    with_relative,
)
from rag.answer.summary import summarize, summarize_collection
from rag.core.collection_info import read_collection_info
from rag.core.errors import DocumentError, QuestionError
from rag.core.profile import load_profile
from rag.core.records import Answer, Citation, Claim, Hit, Summary, Topic
from rag.core.settings import Settings
from rag.index import scope, store
from rag.index.embedding import Embedder

ABSTAIN = "The documents do not say."
CONSTRAINT_DEPTH = 2  # hits looked at per hit kept, when the question's years reorder them
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
        self._rarity_of = None  # (index, its terms' rarity and document share), rebuilt on reload
        self._summaries: dict = {}  # summaries of the loaded index version (`_kept`)

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

    def scope(self, names: Iterable[str]) -> tuple[str, ...]:
        """The document IDs `names` (IDs, prefixes, globs) select; an unknown one is a DocumentError."""
        return scope.resolve(names, self.index.documents)

    def retrieve(
        self, question: str, mode: str | None = None, top_k: int | None = None, query_vec=None,
        documents: Iterable[str] = (),
    ) -> list[Hit]:  # fmt: skip
        """The top hits, from `documents` only when given; with `constraints`, hits holding every
        year the question writes come first."""
        s = self.settings
        top_k = top_k or s.top_k
        depth = max(top_k * CONSTRAINT_DEPTH if s.constraints else top_k, s.rerank_depth)
        rs = RetrievalSettings(
            mode=mode or s.retriever,
            top_k=depth,
            candidates=max(s.candidates, depth),
            rrf_k=s.rrf_k,
            dense_weight=s.dense_weight,
            bm25_weight=s.bm25_weight,
        )
        rows = self.index.rows_of(self.scope(documents)) if documents else None
        hits = self.retriever.search(question, rs, query_vec, rows)
        if s.rerank_depth > 1 and len(hits) > 1:
            hits = self._by_best_sentence(question, query_vec, hits[: s.rerank_depth]) + hits[s.rerank_depth :]
        if s.constraints:
            hits = promote_constrained(hits, question_years(question))
        return [dataclasses.replace(h, rank=i) for i, h in enumerate(hits[:top_k], start=1)]

    def _by_best_sentence(self, question: str, query_vec, hits: list[Hit]) -> list[Hit]:
        """The hits re-ordered by their most relevant sentence (evidence.rerank)."""
        query_vec = self.embedder.encode_query(question) if query_vec is None else query_vec
        weights = view_question(question, *self._term_stats()).weights
        passages = self._passages(question, query_vec, hits, len(hits), weights)
        return [p.hit for p in rerank(passages, self.settings.rerank_prior)]

    def _passages(self, question: str, query_vec, hits: list[Hit], limit: int, weights) -> list[Passage]:
        """select_passages over this index, its stored sentence vectors and the question's term weights."""
        return select_passages(
            question, query_vec, hits, self.index.documents, self.embedder, limit,
            weights=weights, sentences=self.index.sentences,
        )  # fmt: skip

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
        chosen = self.scope(settings.documents)  # an unknown document fails before any work
        about = self.about_collection(question, settings, timings)
        if about is not None:
            about.timings = timings
            return _finish(about, timings)
        ordered = order_question(question)
        if ordered is not None:
            answer = self._in_order(question, ordered, settings, timings)
            answer.timings = timings
            return _finish(answer, timings)
        deliberation = self.deliberate(question, settings, on_token, timings)
        answer = Answer(
            question=deliberation.question, answer=ABSTAIN, abstained=True,
            retrieved=deliberation.hits, timings=timings, draft=deliberation.draft, scope=chosen,
        )  # fmt: skip
        with _timed(timings, "cite"):
            self._settle(answer, deliberation, self.threshold(settings), settings)
        return _finish(answer, timings)

    def _in_order(self, question: str, ordered: OrderQuestion, settings: Settings,
                  timings: dict[str, float]) -> Answer:  # fmt: skip
        """Which of two alternatives came first (or last): each one's date as "when was <it>?" finds
        it, compared (rag/answer/ordering.py); both dates cited. The documents do not say unless
        both are found, above the threshold, and tell the order."""
        question = self.check_question(question)
        dated = [self._dated(alternative, settings, timings) for alternative in ordered.alternatives]
        merged = {h.chunk: h for d in dated for h in d.hits}  # the first alternative's hits, then the other's
        hits = [dataclasses.replace(h, rank=i) for i, h in enumerate(merged.values(), start=1)]
        answer = Answer(question=question, answer=ABSTAIN, abstained=True, retrieved=hits,
                        scope=self.scope(settings.documents),
                        confidence=min(d.confidence for d in dated))  # fmt: skip
        if any(d.key is None for d in dated):
            return answer
        chosen = [d.candidate for d in dated]
        first = earlier(dated[0].key, dated[1].key, len({c.passage.hit.chunk.doc_id for c in chosen}) == 1)
        if first is None:
            return answer
        places = list(dict.fromkeys((c.passage.hit.chunk.doc_id, c.passage.hit.chunk.start) for c in chosen))
        numbers = [places.index((c.passage.hit.chunk.doc_id, c.passage.hit.chunk.start)) + 1 for c in chosen]
        answer.claims = [
            Claim(c.text, n, c.passage.hit.chunk.doc_id, c.start, c.end) for c, n in zip(chosen, numbers)
        ]
        winner = ordered.alternatives[0 if first == ordered.earliest else 1]
        both = _LIST_JOINER.join(
            f"{alt}: {c.text} [{c.n}]" for alt, c in zip(ordered.alternatives, answer.claims)
        )
        answer.answer, answer.abstained = f"{winner} — {both}", False
        answer.citations = self._citations(chosen, numbers)
        return answer

    def _dated(self, alternative: str, settings: Settings, timings: dict[str, float]) -> _Dated:
        """When an alternative of an ordering question happened, as the answer path finds it; its
        stages' times are added to `timings`."""
        asked: dict[str, float] = {}
        deliberation = self.deliberate(load_profile().questions.order_asks.format(alternative), settings,
                                       timings=asked)  # fmt: skip
        for stage, ms in asked.items():
            timings[stage] = round(timings.get(stage, 0.0) + ms, 2)
        best = deliberation.considered[0].candidate if deliberation.considered else None
        if best is None or deliberation.confidence < self.threshold(settings):
            return _Dated(deliberation.hits, None, None, deliberation.confidence)
        document = self.index.documents[best.passage.hit.chunk.doc_id]
        year = int(document.date[:4]) if document.date else None
        return _Dated(deliberation.hits, best, date_key(best.text, year), deliberation.confidence)

    def about_collection(self, question: str, settings: Settings, timings: dict[str, float]) -> Answer | None:
        """A question about the collection itself ("which documents mention X?"), answered from the
        index (rag/answer/about_collection.py); None for any other question."""
        question = self.check_question(question)
        found = recognise(question)
        if found is None:
            return None
        with _timed(timings, "collection"):
            return answer_about(found, self.index, self, settings, question, ABSTAIN)

    def summary(self, doc_id: str, sentences: int | None = None) -> Summary:
        """The document's extractive summary (rag/answer/summary.py); kept per index version."""
        n = sentences or self.settings.summary_sentences
        doc_id = self.one_document(doc_id)
        return self._kept(("doc", doc_id, n), lambda: summarize(self.index, self.embedder, doc_id, n))

    def one_document(self, name: str) -> str:
        """The one document `name` (an ID, a prefix, a glob) selects; naming several is a DocumentError."""
        ids = self.scope([name])
        if len(ids) != 1:
            shown = ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
            raise DocumentError(f"{name!r} matches {len(ids)} documents ({shown}); name one")
        return ids[0]

    def collection_summary(self, sentences: int = 2, documents: Iterable[str] = ()) -> list[Topic]:
        """One or two sentences per document, the documents grouped by topic; kept per index version."""
        chosen = self.scope(documents) if documents else tuple(sorted(self.index.documents))
        return self._kept(
            ("all", chosen, sentences), lambda: summarize_collection(self.index, self.embedder, sentences, chosen)
        )

    def _kept(self, key: tuple, make: Callable):
        if self._summaries.get("index") is not self.index:
            self._summaries = {"index": self.index}
        if key not in self._summaries:
            self._summaries[key] = make()
        return self._summaries[key]

    def selection_for(self, settings: Settings) -> Selection:
        return load_selection(settings.selector or SELECTOR_FILE)

    def threshold(self, settings: Settings) -> float:
        """The confidence below which the documents do not say: `abstain_threshold`, else the fitted one."""
        if settings.abstain_threshold is not None:
            return settings.abstain_threshold
        return self.selection_for(settings).threshold

    def deliberate(
        self,
        question: str,
        settings: Settings | None = None,
        on_token: Callable[[str], None] | None = None,
        timings: dict[str, float] | None = None,
        score: bool = True,
    ) -> Deliberation:
        """Retrieve, read the evidence, draft, and weigh every answer candidate (best first).

        With `score=False` the candidates keep their features but are not scored:
        eval/fit_selector.py fits the selector on them.
        """
        settings = settings or self.settings
        timings = {} if timings is None else timings
        question = self.check_question(question)
        with _timed(timings, "retrieve"):
            query_vec = self.embedder.encode_query(question)  # once, for retrieval and evidence
            hits = self.retrieve(question, settings.retriever, settings.top_k, query_vec, settings.documents)
        view = view_question(question, *self._term_stats())
        if not hits:
            return Deliberation(question, view, hits, [], "", (), 0.0, None)
        with _timed(timings, "evidence"):
            passages = self._passages(question, query_vec, hits, settings.context_passages, view.weights)
        draft, prompt = "", None
        if settings.draft or self._scores(settings):  # the model reads this prompt: it must fit
            with _timed(timings, "prompt"):
                prompt = self.build_prompt(question, passages, settings)
        if settings.draft:
            with _timed(timings, "generate"):
                draft = self._draft(prompt, settings, on_token)
        with _timed(timings, "select"):
            considered = self._consider(view, passages, hits, draft, settings, score)
        selection = self.selection_for(settings) if score else None
        settled = None  # the confidence, when the answer model's likelihoods could not change the answer
        if selection is not None and selection.second is not None and considered and self._scores(settings):
            with _timed(timings, "model_score"):
                settled = self._settled_without_model(view, considered, selection, settings, prompt)
                if settled is None:
                    considered = self._rescore(question, passages, considered, selection, settings, prompt)
        confidence = 0.0
        if settled is not None:
            confidence = settled
        elif selection is not None and considered:
            confidence = selection.confidence(
                [c.features for c in considered[:2]], [c.probability for c in considered[:2]], view.form
            )
        return Deliberation(question, view, hits, passages, draft, considered, confidence, prompt)

    def _settled_without_model(
        self, view: QuestionView, considered: tuple[Considered, ...], selection: Selection, settings: Settings,
        prompt: str | None,
    ) -> float | None:  # fmt: skip
        """Selection.settled for the first stage's top candidates, or None where the model must read them:
        `skip_settled` is off, the backend cannot count its tokens, or a list question's further items
        depend on the second stage's probabilities."""
        lengths_of = getattr(self.generator_for(settings), "continuation_lengths", None)
        if not settings.skip_settled or lengths_of is None or view.qtype.wants_list or prompt is None:
            return None
        top = considered[: selection.top_k]
        texts = [c.candidate.text if scored(c.candidate.text) else "" for c in top]
        lengths = lengths_of(prompt, texts)
        first = logit(np.array([c.probability for c in top])).tolist()
        return selection.settled(top[0].features, first, lengths, view.form)

    def _rescore(
        self, question: str, passages: list[Passage], considered: tuple[Considered, ...],
        selection: Selection, settings: Settings, prompt: str | None = None,
    ) -> tuple[Considered, ...]:  # fmt: skip
        """The first stage's top candidates re-weighed with the answer model's likelihood of each."""
        top, rest = considered[: selection.top_k], considered[selection.top_k :]
        texts = [c.candidate.text for c in top if scored(c.candidate.text)]
        scores = self.model_scores(question, passages, texts, settings, prompt)
        if scores is None:  # the backend cannot score: the first stage decides
            return considered
        by_text = dict(zip(texts, scores))
        logprobs = [by_text.get(c.candidate.text) for c in top]
        rows = rescore_features(logit(np.array([c.probability for c in top])).tolist(), logprobs)
        second = selection.second.probabilities(rows)
        rescored = [Considered(c.candidate, {**c.features, **row}, float(p)) for c, row, p in zip(top, rows, second)]
        below = [Considered(c.candidate, c.features, min(c.probability, float(second.min()))) for c in rest]
        return tuple(sorted(rescored, key=lambda c: -c.probability)) + tuple(below)

    def _scores(self, settings: Settings) -> bool:
        """Whether the answer model re-weighs the candidates: asked for, and the backend can score text."""
        return settings.model_score and hasattr(self.generator_for(settings), "continuation_logprobs")

    def model_scores(
        self, question: str, passages: list[Passage], texts: list[str], settings: Settings | None = None,
        prompt: str | None = None,
    ) -> list[list[float]] | None:  # fmt: skip
        """The answer model's log-probability of each token of each text as the answer to the prompt.

        None when the backend cannot score text (a chat server returns no prompt logits).
        """
        settings = settings or self.settings
        generator = self.generator_for(settings)
        score = getattr(generator, "continuation_logprobs", None)
        if score is None:
            return None
        return score(prompt or self.build_prompt(question, passages, settings), texts)

    def _draft(self, prompt: str, settings: Settings, on_token: Callable[[str], None] | None) -> str:
        gen = GenerationSettings(
            max_tokens=settings.max_answer_tokens, temperature=settings.temperature, forbid=ANSWER_FORBID
        )
        pieces = []
        for piece in self.generator_for(settings).stream(prompt, gen):
            pieces.append(piece)
            if on_token is not None:
                on_token(piece)
        return "".join(pieces).strip()

    def _consider(
        self, view: QuestionView, passages: list[Passage], hits: list[Hit], draft: str, settings: Settings,
        score: bool,
    ) -> tuple[Considered, ...]:  # fmt: skip
        found = candidates(view.text, passages, self.index.mentions_in, settings.extract_sentences,
                           self.index.defining)  # fmt: skip
        best_bm25 = max((h.bm25 or 0.0) for h in hits) or 1.0
        draft_terms = frozenset(terms(draft))
        contexts: dict = {}  # sentence span -> its Evidence
        by_span: dict[tuple[int, int], list[Candidate]] = {}
        for candidate in found:
            by_span.setdefault((candidate.start, candidate.end), []).append(candidate)
        rows, kept = [], []
        for group in by_span.values():
            candidate = max(group, key=lambda c: c.typed_score)
            key = (candidate.sentence.start, candidate.sentence.end)
            if key not in contexts:
                hit = candidate.passage.hit
                document = self.index.documents[hit.chunk.doc_id]
                term = self.index.defining(hit.chunk.doc_id, key[0])
                defined, span = (term[2], term[:2]) if term else ("", None)
                context = context_of(document.text, (hit.chunk.start, hit.chunk.end), key, document.title, defined)
                contexts[key] = sentence_evidence(
                    view, candidate, context, hit.dense or 0.0, (hit.bm25 or 0.0) / best_bm25, defined, span
                )
            sources = frozenset(c.source for c in group)
            rows.append(features(view, candidate, sources, contexts[key], draft_terms))
            kept.append(candidate)
        rows = with_relative(rows)
        allowed = admitted(rows, view.form)
        rows, kept = [rows[i] for i in allowed], [kept[i] for i in allowed]
        probabilities = (
            self.selection_for(settings).first.probabilities(rows) if score and rows else [0.0] * len(rows)
        )
        considered = [Considered(c, f, float(p)) for c, f, p in zip(kept, rows, probabilities)]
        return tuple(sorted(considered, key=lambda c: -c.probability))

    def _term_stats(self):
        """(rarity, document share) of the index's terms, rebuilt when the index is reloaded."""
        if self._rarity_of is None or self._rarity_of[0] is not self.index:
            chunk_documents = [c.doc_id for c in self.index.chunks]
            stats = (rarity_table(self.index.bm25), document_share(self.index.bm25, chunk_documents))
            self._rarity_of = (self.index, stats)
        return self._rarity_of[1]

    def _settle(self, answer: Answer, deliberation: Deliberation, threshold: float, settings: Settings) -> None:
        """The chosen candidates as a verbatim, cited answer, or the abstention when none is likely enough.

        A list question takes every likely item of the same kind from other
        sentences too, each cited where it stands; a yes/no question is answered
        by the sentence that settles it and the answer model's verdict on it.
        """
        considered = deliberation.considered
        answer.confidence = deliberation.confidence if considered else None
        if not considered or deliberation.confidence < threshold:
            return
        chosen = [shaped(considered[0].candidate, deliberation.view)]
        if deliberation.view.qtype.wants_list:
            chosen += _more_items(considered, threshold)
        claims = [_claim(c) for c in chosen]
        shown = [" ".join(c.text.split()) for c in claims]  # a soft wrap inside a span reads as a space
        if deliberation.view.form == YES_NO:
            shown, claims = self._settled(deliberation, chosen[0], shown, claims, settings)
        answer.answer = _LIST_JOINER.join(f"{text} [{c.n}]" for text, c in zip(shown, claims))
        answer.citations = self._citations(chosen, [c.passage.n for c in chosen])
        answer.claims = claims
        answer.abstained = False

    def _citations(self, chosen: list[Candidate], numbers: list[int]) -> list[Citation]:
        """The passages of the chosen candidates, the i-th cited as [numbers[i]], each with the
        sentences that support what is taken from it."""
        citations: dict[int, Citation] = {}
        for candidate, n in zip(chosen, numbers):
            passage, support = candidate.passage, candidate.sentence
            chunk = passage.hit.chunk
            cited = citations.get(n)
            spans = (cited.support if cited else ()) + ((support.start, support.end),)
            if not support.start <= candidate.start < support.end:  # a defined term above its sentence
                spans += ((candidate.start, candidate.end),)
            start = min(chunk.start, candidate.start, cited.start if cited else chunk.start)  # ... or passage
            text = chunk.text if start == chunk.start else self.index.documents[chunk.doc_id].text[start : chunk.end]
            citations[n] = Citation(
                n=n, doc_id=chunk.doc_id, title=passage.title, start=start, end=chunk.end,
                text=text, support=tuple(dict.fromkeys(spans)),
            )  # fmt: skip
        return list(citations.values())

    def _settled(
        self, deliberation: Deliberation, settling: Candidate, shown: list[str], claims: list[Claim],
        settings: Settings,
    ) -> tuple[list[str], list[Claim]]:  # fmt: skip
        """A yes/no question's answer: of the two alternatives it may join, the one the settling
        sentence holds ("double-stranded — <the sentence>", the claim where the sentence writes it);
        else the verdict ("Yes — <the sentence>"); the sentence alone when neither can be told."""
        sentence, offered = settling.sentence, deliberation.view.alternatives
        if offered:
            span = chosen_alternative(offered, sentence.text)
            if span is None:
                return shown, claims
            text = sentence.text[span[0] : span[1]]
            start, end = sentence.start + span[0], sentence.start + span[1]
            inside = settling.start <= start and end <= settling.end
            # the quote shows where it is written
            quote = shown[0] if inside else " ".join(sentence.text.split()).rstrip(" .;,")
            return [f"{text} — {quote}"], [dataclasses.replace(claims[0], text=text, start=start, end=end)]
        verdict = self._verdict(deliberation, settings)
        if verdict is None:
            return shown, claims
        return [f"{verdict} — {shown[0]}"], [dataclasses.replace(claims[0], text=verdict)]

    def _verdict(self, deliberation: Deliberation, settings: Settings) -> str | None:
        """"Yes" or "No": whichever the passages make likelier than the question alone does.

        The small model leans to one verdict whatever it reads; what the passages
        add is the difference between its log-probability of each verdict after
        the prompt and after the same prompt without passages (the question's
        own prior). None if the backend cannot score text.
        """
        words = list(load_profile().answers.yes_no)
        question = deliberation.question
        read = self.model_scores(question, deliberation.passages, words, settings, deliberation.prompt)
        prior = self.model_scores(question, [], words, settings, self._bare_prompt(question, settings))
        if not read or not prior or not all(read) or not all(prior):
            return None
        gain = [sum(r) - sum(p) for r, p in zip(read, prior)]
        return max(zip(words, gain), key=lambda wg: wg[1])[0]

    def _bare_prompt(self, question: str, settings: Settings) -> str:
        """The answer prompt with no passages in it."""
        description = self.collection_info.description
        system, user = self.template.render(passages="", question=question, description=description)
        return self.generator_for(settings).format_chat(system, user)


_LIST_JOINER = "; "
MAX_ITEMS = 4


def shaped(candidate: Candidate, view: QuestionView) -> Candidate:
    """The chosen candidate as it is shown: a sentence or clause without a closing pointer ("see
    Table 1") and clipped to what answers (not for yes/no, whose whole sentence settles it); a
    quantity without the words restating what is counted; an abbreviation with its long form."""
    if candidate.source in (SENTENCE, CLAUSE):
        candidate = without_pointer(candidate)
        return candidate if view.form == YES_NO else without_echo(candidate, view.terms)
    return spelled_out(without_counted_echo(candidate, view.terms))


def _more_items(considered: tuple[Considered, ...], threshold: float) -> list[Candidate]:
    """Further items of a list answer: likely candidates of the best one's kind, from other sentences."""
    best = considered[0].candidate
    kind = group_of(best.source)
    items, seen = [], {(best.sentence.start, best.sentence.end)}
    for c in considered[1:]:
        candidate = c.candidate
        where = (candidate.sentence.start, candidate.sentence.end)
        if c.probability < threshold or len(items) + 1 >= MAX_ITEMS:
            break
        if where in seen or group_of(candidate.source) != kind:
            continue
        seen.add(where)
        items.append(candidate)
    return items


def _claim(candidate: Candidate) -> Claim:
    """The candidate as a claim, without the punctuation around it, its offsets still its text's."""
    text = trimmed(candidate.text)
    start = candidate.start + max(0, candidate.text.find(text))
    return Claim(text, candidate.passage.n, candidate.passage.hit.chunk.doc_id, start, start + len(text))


@dataclass(frozen=True)
class _Dated:
    """One alternative of an ordering question: the hits read, the date found and its key, if any."""

    hits: list[Hit]
    candidate: Candidate | None
    key: tuple[int, int, int] | None
    confidence: float


@dataclass(frozen=True)
class Considered:
    """One answer candidate, its features and the selector's probability that it answers the question."""

    candidate: Candidate
    features: dict[str, float]
    probability: float


@dataclass(frozen=True)
class Deliberation:
    """Everything the answer was chosen from: the hits, the passages, the draft, the weighed candidates."""

    question: str
    view: QuestionView
    hits: list[Hit]
    passages: list[Passage]
    draft: str
    considered: tuple[Considered, ...]  # best first
    confidence: float  # that the first candidate is the answer (the selection's answerability model)
    prompt: str | None  # what the answer model read, when it is called


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
