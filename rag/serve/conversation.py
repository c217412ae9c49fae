"""Follow-up questions: detect them and rewrite them into standalone questions.

Retrieval and typed extraction read one question at a time, so "and when did
it end?" must become "When did the joint exercise ... end?" before it is
asked. The bundled model (SmolLM2-135M) cannot be trusted to write that
question freely: asked to, it answers instead, repeats the previous
question, or invents facts. So the model only *chooses*, and everything it
may choose is built from the conversation:

1. Detection (`is_follow_up`): with a previous turn, a question is a
   follow-up when it opens with "and / but / so / also ..." or "what about X",
   or when it has a referring word ("it", "they", "his", "that" ...) and at
   most three content words of its own. Anything else is asked as typed.
2. Rewriting, in order:
   - "what about X" after a question with a focus noun ("how many *troops*",
     "which *aircraft*") is settled by a rule: the focus noun becomes X.
   - A referring word: candidate referents are noun-like spans of the
     previous question and the previous answer; the model picks one through
     a llama.cpp grammar that allows exactly "follow-up with the pronoun
     replaced by one candidate" (prompt: `prompts/rewrite.txt`).
   - "what about X" without a focus noun: the model picks which span of the
     previous question X replaces, through the same kind of grammar.
   - Anything else ("and in 2022?"): the model writes one line, held by a
     grammar to a single question of bounded length.
3. Verification (`verified`): the result is kept only when it is non-empty,
   at most `MAX_WORDS` words, contains every content word of the follow-up,
   and at least one content word of the previous turn that the follow-up
   lacked. Otherwise a deterministic fallback is used: the follow-up with
   the previous question's content words appended in parentheses,
   "When did it end (joint exercise China Belarus begin)?" - not elegant,
   but it keeps both questions' words for retrieval and the follow-up's
   question word for the answer type.

`Rewrite.method` says which path produced the question; the UI shows the
rewritten question (collapsed) next to the answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rag.answer.generation.base import GenerationSettings
from rag.answer.prompting import PromptTemplate
from rag.core.collection_info import DEFAULT_DESCRIPTION
from rag.core.profile import load_profile, words_group
from rag.index.lexical import stemmer

if TYPE_CHECKING:
    from rag.answer.pipeline import Pipeline
    from rag.core.settings import Settings

MAX_WORDS = 40
MAX_REFERENTS = 16
MAX_REFERENT_WORDS = 8

# The words come from the language profile (rag/profiles/en.toml, [conversation]).
_WORDS = load_profile().conversation
WH_WORDS = _WORDS.wh_words
AUXILIARIES = _WORDS.auxiliaries
QUANTIFIERS = _WORDS.quantifiers
REFERRING = _WORDS.referring
POSSESSIVE = _WORDS.possessive
PERSONAL = _WORDS.personal
PREPOSITIONS = _WORDS.prepositions
# Words that carry no content of their own: neither a follow-up's content nor a referent's edge.
FUNCTION_WORDS = WH_WORDS | AUXILIARIES | QUANTIFIERS | REFERRING | PREPOSITIONS | _WORDS.function_words
_THE = _WORDS.definite_article
_ANY_SPACE = r"\s+"

_OPENER = re.compile(rf"^\s*(?:{words_group(_WORDS.openers)}\b[\s,]*)+", re.IGNORECASE)
_ABOUT = re.compile(
    rf"^\s*(?:{words_group(_WORDS.about_conjunctions)}\s+)?"
    rf"{words_group(_WORDS.about_phrases, _ANY_SPACE)}\s+(?P<x>.+?)[\s?.!]*$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\w’'-]+", re.UNICODE)
_FOCUS = re.compile(
    rf"\b{words_group(_WORDS.focus_phrases, _ANY_SPACE)}\s+(?P<noun>[\w’'-]+)", re.IGNORECASE
)
_MARKERS = re.compile(r"\s*\[\d+\]")
FREE_GRAMMAR = r"""root ::= [A-Z] [^\n?\[\]<>{}]{3,200} "?" """


class Model(Protocol):
    """What rewriting needs from a loaded GGUF (rag.answer.generation.llama.Generator)."""

    def format_chat(self, system: str, user: str) -> str: ...
    def stream(self, prompt: str, settings: GenerationSettings) -> Iterator[str]: ...


@dataclass(frozen=True)
class Turn:
    """A finished turn: the standalone question that was answered and its answer text."""

    question: str
    answer: str = ""  # without [n] markers; empty after an abstention


@dataclass(frozen=True)
class Rewrite:
    original: str
    standalone: str
    method: str  # "standalone" (asked as typed), "rule", "model", "fallback"

    @property
    def rewritten(self) -> bool:
        return self.method != "standalone"


def answer_phrase(answer: str) -> str:
    """An answer's text without its citation markers."""
    return _MARKERS.sub("", answer).strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _own_terms(text: str) -> set[str]:
    """Content words, lower-cased and stemmed (as BM25 sees them): what verification compares."""
    words = [w.lower().replace("’", "'") for w in _words(text)]
    return set(stemmer().stemWords([w for w in words if w not in FUNCTION_WORDS]))


def _referring_word(core: str) -> tuple[int, int, str] | None:
    """The first pronoun that points back into the conversation, as (start, end, word)."""
    matches = list(_WORD.finditer(core))
    for i, m in enumerate(matches):
        word = m.group(0).lower()
        if word not in REFERRING:
            continue
        before = matches[i - 1].group(0).lower() if i else ""
        after = matches[i + 1].group(0).lower() if i + 1 < len(matches) else ""
        if word == _WORDS.existential and (after in AUXILIARIES or before in AUXILIARIES):
            continue  # "are there", "there were": existential, refers to nothing
        if word == _WORDS.demonstrative and after and after not in AUXILIARIES:
            continue  # "said that ...", "that exercise": not a pronoun on its own
        return m.start(), m.end(), m.group(0)
    return None


def is_follow_up(question: str) -> bool:
    """Whether `question` leans on the previous turn (see the module docstring)."""
    if _OPENER.match(question) or _ABOUT.match(question):
        return True
    return _referring_word(question) is not None and len(_own_terms(question)) <= 3


def _core(question: str) -> str:
    """The follow-up without its opening "and"/"so", trailing punctuation, capitalised."""
    core = _OPENER.sub("", question).strip().rstrip("?.! ").strip()
    return core[:1].upper() + core[1:] if core else core


def _question(text: str) -> str:
    text = " ".join(text.split()).rstrip("?.! ")
    return text[:1].upper() + text[1:] + "?" if text else ""


def referents(previous: Turn, follow_up: str = "") -> list[str]:
    """Noun-like spans of the previous question (and a short previous answer) a pronoun may mean.

    Spans never cross a question word or an auxiliary, start with "the" or a
    content word, end with a content word, are at most eight words long, and
    hold no content word of the follow-up itself ("where did they *arrive*?"
    cannot mean "troops *arrive* in Belarus"); spans that look like noun
    phrases ("the ...", a capitalised word) come first, longer before shorter.
    """
    own = _own_terms(follow_up)
    found: list[str] = []
    answer = answer_phrase(previous.answer)
    if answer and len(answer.split()) <= MAX_REFERENT_WORDS:
        found.append(answer)
    segments: list[list[str]] = [[]]
    for word in _words(previous.question):
        lower = word.lower()
        if lower in WH_WORDS or lower in AUXILIARIES or lower in QUANTIFIERS:
            segments.append([])
        else:
            segments[-1].append(word)
    spans: list[str] = []
    for segment in segments:
        for size in range(min(MAX_REFERENT_WORDS, len(segment)), 0, -1):
            for i in range(len(segment) - size + 1):
                span = segment[i : i + size]
                first, last = span[0].lower(), span[-1].lower()
                if last in FUNCTION_WORDS or (first in FUNCTION_WORDS and first != _THE):
                    continue
                if first == _THE and size == 1:
                    continue
                if own & _own_terms(" ".join(span)):
                    continue
                spans.append(" ".join(span))
    # noun-phrase-looking spans first ("the ...", a name), then longer before shorter
    spans.sort(key=lambda s: (not (s.startswith(f"{_THE} ") or s[:1].isupper()), -len(s.split())))
    for span in spans:
        if span not in found:
            found.append(span)
    return found[:MAX_REFERENTS]


def _literal(text: str) -> str:
    """A GBNF string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def choice_grammar(prefix: str, options: list[str], suffix: str) -> str:
    """GBNF: exactly `prefix + one option + suffix`."""
    alternatives = " | ".join(_literal(o) for o in options)
    parts = [_literal(prefix) if prefix else "", "choice", _literal(suffix) if suffix else ""]
    return f"root ::= {' '.join(p for p in parts if p)}\nchoice ::= {alternatives}\n"


def verified(candidate: str, follow_up: str, previous: Turn) -> bool:
    """Whether a rewrite keeps the follow-up's content and adds something from the previous turn."""
    text = " ".join(candidate.split())
    if not text or len(text.split()) > MAX_WORDS:
        return False
    have = _own_terms(text)
    if not _own_terms(follow_up) <= have:
        return False
    context = _own_terms(f"{previous.question} {answer_phrase(previous.answer)}") - _own_terms(follow_up)
    return bool(context & have)


def fallback(question: str, previous: Turn) -> str:
    """Deterministic: the follow-up plus the previous question's content words in parentheses."""
    about = _ABOUT.match(question)
    core = f"{_WORDS.about_question} {about.group('x')}" if about else _core(question)
    context_words = [w for w in _words(previous.question) if w.lower() not in FUNCTION_WORDS]
    ref = _referring_word(core)
    answer = answer_phrase(previous.answer)
    if (
        ref is not None
        and ref[2].lower() in PERSONAL
        and answer
        and len(answer.split()) <= MAX_REFERENT_WORDS
    ):
        context_words = [answer, *context_words]  # "he", "her": most often the person just named
    own = _own_terms(core)
    context = [w for w in dict.fromkeys(context_words) if not _own_terms(w) <= own]
    return _question(f"{core} ({' '.join(context)})" if context else core)


def _focus_rule(x: str, previous: Turn) -> str | None:
    """'what about tanks?' after 'How many troops did ...?' -> 'How many tanks did ...?'."""
    words = _words(x)
    if not words or words[0].lower() in PREPOSITIONS:
        return None
    match = _FOCUS.search(previous.question)
    if match is None or match.group("noun").lower() in FUNCTION_WORDS:
        return None
    if words[0].lower() in _WORDS.articles:
        x = x.split(None, 1)[1] if len(words) > 1 else x
    start, end = match.span("noun")
    return _question(previous.question[:start] + x + previous.question[end:])


def _preposition_rule(x: str, previous: Turn) -> str | None:
    """'and in Poland?' after '... arrive in Belarus?' -> '... arrive in Poland?'."""
    words = _words(x)
    if not words or words[0].lower() not in PREPOSITIONS:
        return None
    spans = list(_WORD.finditer(previous.question))
    for i in range(len(spans) - 1, -1, -1):
        if spans[i].group(0).lower() != words[0].lower():
            continue
        j = i + 1
        while j < len(spans) and spans[j].group(0).lower() not in PREPOSITIONS | AUXILIARIES | WH_WORDS:
            j += 1
        if j == i + 1:
            return None
        start, end = spans[i].start(), spans[j - 1].end()
        return _question(previous.question[:start] + x + previous.question[end:])
    return None


def _shared_rule(x: str, previous: Turn) -> str | None:
    """'what about Russian troops?' after 'When did Chinese troops ...?' -> 'When did Russian troops ...?'.

    The phrase of the previous question that ends in the same word as X
    (same stem) is replaced by X.
    """
    words = _words(x)
    if not words or words[-1].lower() in FUNCTION_WORDS:
        return None
    head = _own_terms(words[-1])
    spans = list(_WORD.finditer(previous.question))
    for i, m in enumerate(spans):
        if m.group(0).lower() in FUNCTION_WORDS or _own_terms(m.group(0)) != head:
            continue
        first = i
        while first > 0 and spans[first - 1].group(0).lower() not in FUNCTION_WORDS:
            first -= 1
        if first > 0 and spans[first - 1].group(0).lower() == _THE:
            first -= 1
        start, end = spans[first].start(), m.end()
        return _question(previous.question[:start] + x + previous.question[end:])
    return None


def _replacement(question: str, core: str, ref: tuple[int, int, str] | None) -> str | None:
    """What replaces part of the previous question: X of "what about X", or a bare "and X?"."""
    about = _ABOUT.match(question)
    if about:
        return about.group("x").strip()
    words = [w.lower() for w in _words(core)]
    if ref is None and words and not WH_WORDS & set(words) and not AUXILIARIES & set(words):
        stripped = _OPENER.sub("", question).strip().rstrip("?.! ").strip()
        return stripped or None
    return None


class Rewriter:
    """Turns follow-ups into standalone questions with a loaded model and a prompt template."""

    def __init__(
        self, model: Model, template: PromptTemplate, max_tokens: int = 64, description: str = DEFAULT_DESCRIPTION
    ):
        self.model = model
        self.template = template
        self.max_tokens = max_tokens
        self.description = description  # what the conversation is about: the collection's description

    @classmethod
    def for_pipeline(cls, pipeline: Pipeline, template: PromptTemplate, settings: Settings) -> Rewriter:
        """The rewriter a pipeline's doors use: its answer model for `settings`, its collection's description."""
        return cls(pipeline.generator_for(settings), template, description=pipeline.collection_info.description)

    def rewrite(self, question: str, previous: Turn | None) -> Rewrite:
        question = " ".join(question.split())
        if previous is None or not is_follow_up(question):
            return Rewrite(question, question, "standalone")
        core = _core(question)
        ref = _referring_word(core)
        x = _replacement(question, core, ref)
        if x is not None:
            for rule in (_preposition_rule, _shared_rule, _focus_rule):
                ruled = rule(x, previous)
                if ruled is not None and verified(ruled, x, previous):
                    return Rewrite(question, ruled, "rule")
            return self._checked(question, self._substitute(question, x, previous), x, previous)
        if ref is not None:
            candidate = self._resolve(question, core, ref, previous)
        else:
            candidate = self._generate(question, previous, FREE_GRAMMAR)
        return self._checked(question, candidate, core, previous)

    def _checked(self, question: str, candidate: str | None, own: str, previous: Turn) -> Rewrite:
        if candidate is not None:
            candidate = _question(candidate)
            if verified(candidate, own, previous):
                return Rewrite(question, candidate, "model")
        return Rewrite(question, fallback(question, previous), "fallback")

    def _resolve(self, question: str, core: str, ref: tuple[int, int, str], previous: Turn) -> str | None:
        """The model picks what the pronoun means among the previous turn's spans."""
        start, end, word = ref
        options = referents(previous, core)
        if not options:
            return None
        suffix_mark = _WORDS.possessive_ending if word.lower() in POSSESSIVE else ""
        prefix, suffix = core[:start], suffix_mark + core[end:] + "?"
        if not prefix:  # the pronoun opens the question: the referent is capitalised
            options = [o[:1].upper() + o[1:] for o in options]
        return self._generate(question, previous, choice_grammar(prefix, options, suffix))

    def _substitute(self, question: str, x: str, previous: Turn) -> str | None:
        """'what about X': the model picks which span of the previous question X replaces."""
        base = previous.question.rstrip("?.! ")
        options = []
        for span in referents(Turn(previous.question), x):
            at = base.find(span)
            if at > 0:
                options.append(f"{base[:at]}{x}{base[at + len(span) :]}")
        options = list(dict.fromkeys(options))
        if not options:
            return None
        return self._generate(question, previous, choice_grammar("", options, "?"))

    def _generate(self, question: str, previous: Turn, grammar: str) -> str | None:
        system, user = self.template.render(
            previous_question=previous.question,
            previous_answer=answer_phrase(previous.answer) or _WORDS.no_answer,
            follow_up=question,
            description=self.description,
        )
        prompt = self.model.format_chat(system, user)
        settings = GenerationSettings(max_tokens=self.max_tokens, temperature=0.0, grammar=grammar)
        text = "".join(self.model.stream(prompt, settings)).strip()
        return text or None
