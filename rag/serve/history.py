"""Conversations that last: every answered turn kept in SQLite beside the index.

The store is one file, `<index_dir>/conversations.sqlite3` (standard
library `sqlite3`, WAL journal so a `rag ask --conversation` in a terminal
and the web UI can use it at once). A turn is stored as the question as
typed plus the `rag ask --json` object of its answer (citations with their
support text, claims, the follow-up `rewrite`), so a conversation can be
shown again, continued, and exported (rag/serve/export.py) without the
index: the quoted sentences were copied from the documents when the answer
was made.

A conversation has an opaque `key` (the web UI makes one per new
conversation, before its first question) and a unique, renameable `name`
(`rag ask --conversation NAME`). Every failure of the file - not a
database, locked past the busy timeout, written by a newer schema - is one
`ConversationStoreError` line; callers answer anyway and say the turn was
not saved.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.core.contract import answer_to_json
from rag.core.errors import ConversationMissingError, ConversationNameError, ConversationStoreError, one_line
from rag.core.records import Answer, Document
from rag.serve.conversation import Rewrite, Turn

FILE_NAME = "conversations.sqlite3"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 2.0  # a locked store delays saving by this much, then the turn goes unsaved
MAX_NAME_CHARS = 80
_SCHEMA = """
CREATE TABLE conversations (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE turns (
    conversation TEXT NOT NULL REFERENCES conversations(key) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    asked TEXT NOT NULL,
    answer TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (conversation, ordinal)
);
"""


@dataclass(frozen=True)
class StoredTurn:
    """One answered turn: the question as typed and the `rag ask --json` object of its answer
    (with `rewrite` when a follow-up was rewritten)."""

    asked: str
    answer: Mapping[str, Any]
    created: float

    @property
    def question(self) -> str:
        """The standalone question that was answered (after any rewrite)."""
        return self.answer["question"]

    @property
    def rewrite(self) -> Rewrite | None:
        given = self.answer.get("rewrite")
        return Rewrite(given["original"], given["standalone"], given["method"]) if given else None

    def as_turn(self) -> Turn:
        """What the follow-up rewriter reads, exactly as the web UI's history gives it."""
        return Turn(self.question, "" if self.answer["abstained"] else self.answer["answer"])


@dataclass(frozen=True)
class Conversation:
    key: str
    name: str
    created: float
    updated: float
    turns: int


def answer_record(answer: Answer, documents: Mapping[str, Document], rewrite: Rewrite | None) -> dict[str, Any]:
    """The `rag ask --json` object of a turn, with its rewrite when there was one: what is stored."""
    data = answer_to_json(answer, dict(documents))
    if rewrite is not None and rewrite.rewritten:
        data["rewrite"] = {"original": rewrite.original, "standalone": rewrite.standalone, "method": rewrite.method}
    return data


def new_key() -> str:
    return uuid.uuid4().hex


def name_from(question: str) -> str:
    """A conversation's first name: its first question, on one line, cut to MAX_NAME_CHARS."""
    text = " ".join(question.split()) or "conversation"
    return text if len(text) <= MAX_NAME_CHARS else text[: MAX_NAME_CHARS - 1] + "…"


class ConversationStore:
    """The conversations of one index folder. Each call opens its own connection and transaction,
    so threads of the web UI and other processes never share one."""

    def __init__(self, path: Path, timeout: float = BUSY_TIMEOUT_S):
        self.path = Path(path)
        self.timeout = timeout

    @classmethod
    def in_index(cls, index_dir: Path) -> ConversationStore:
        return cls(Path(index_dir) / FILE_NAME)

    # ------------------------------------------------------------ reading

    def conversations(self) -> list[Conversation]:
        """Every conversation, the most recently continued first."""
        with self._transaction(write=False) as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT c.key, c.name, c.created, c.updated, COUNT(t.ordinal) FROM conversations c "
                "LEFT JOIN turns t ON t.conversation = c.key GROUP BY c.key ORDER BY c.updated DESC, c.name"
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def get(self, key: str) -> Conversation | None:
        return next((c for c in self.conversations() if c.key == key), None)

    def find(self, name: str) -> Conversation | None:
        return next((c for c in self.conversations() if c.name == name), None)

    def named(self, name: str) -> Conversation:
        """The conversation called `name`; ConversationMissingError naming the ones there are."""
        found = self.conversations()
        for conversation in found:
            if conversation.name == name:
                return conversation
        known = ", ".join(repr(c.name) for c in found[:5]) or "none yet"
        raise ConversationMissingError(f"no conversation named {name!r} (conversations: {known})")

    def turns(self, key: str) -> list[StoredTurn]:
        with self._transaction(write=False) as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT asked, answer, created FROM turns WHERE conversation = ? ORDER BY ordinal", (key,)
            ).fetchall()
        try:
            return [StoredTurn(asked, json.loads(answer), created) for asked, answer, created in rows]
        except json.JSONDecodeError as exc:
            raise self._error(f"a stored answer is damaged ({exc.msg})") from None

    # ------------------------------------------------------------ writing

    def append(self, key: str, turn: StoredTurn, name: str, exact: bool = False) -> Conversation:
        """Add `turn` to conversation `key`, creating it as `name` when new (made unique with " (2)"…
        unless `exact`, when a taken name is an error)."""
        with self._transaction(write=True) as db:
            if db.execute("SELECT 1 FROM conversations WHERE key = ?", (key,)).fetchone() is None:
                name = self._free_name(db, name, exact)
                db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?)", (key, name, turn.created, turn.created))
            ordinal = db.execute("SELECT COUNT(*) FROM turns WHERE conversation = ?", (key,)).fetchone()[0]
            db.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?)",
                (key, ordinal, turn.asked, json.dumps(dict(turn.answer), ensure_ascii=False), turn.created),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE key = ?", (turn.created, key))
        return self._known(key)

    def rename(self, key: str, name: str) -> Conversation:
        name = " ".join(name.split())
        if not name:
            raise ConversationNameError("a conversation's name cannot be empty")
        with self._transaction(write=True) as db:
            taken = db.execute("SELECT key FROM conversations WHERE name = ?", (name,)).fetchone()
            if taken is not None and taken[0] != key:
                raise ConversationNameError(f"another conversation is already named {name!r}")
            if db.execute("UPDATE conversations SET name = ? WHERE key = ?", (name, key)).rowcount == 0:
                raise ConversationMissingError("that conversation has no saved turn yet; ask a question first")
        return self._known(key)

    def delete(self, key: str) -> None:
        with self._transaction(write=True) as db:
            db.execute("DELETE FROM conversations WHERE key = ?", (key,))

    # ------------------------------------------------------------ the file

    def _known(self, key: str) -> Conversation:
        conversation = self.get(key)
        if conversation is None:  # deleted by another process meanwhile
            raise ConversationMissingError("the conversation was deleted meanwhile")
        return conversation

    @staticmethod
    def _free_name(db: sqlite3.Connection, name: str, exact: bool) -> str:
        base = name_from(name)
        taken = {row[0] for row in db.execute("SELECT name FROM conversations")}
        if base not in taken:
            return base
        if exact:
            raise ConversationNameError(f"another conversation is already named {base!r}")
        return next(f"{base} ({n})" for n in range(2, len(taken) + 3) if f"{base} ({n})" not in taken)

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection | None]:
        """One connection and one transaction; for reading, None when there is no store yet.

        A write takes the write lock at its start (BEGIN IMMEDIATE), so a locked store fails
        before anything is done, after the busy timeout.
        """
        if not write and not self.path.is_file():
            yield None
            return
        db = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            self._prepare(db)
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db is not None and db.in_transaction:
                db.execute("ROLLBACK")
            raise self._error(_reason(exc)) from None
        except BaseException:
            if db is not None and db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            if db is not None:
                db.close()

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Foreign keys on, WAL journal, the schema created once; a newer schema is refused."""
        db.execute("PRAGMA foreign_keys = ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise self._error(f"written by a newer version of rag (schema {version}, this one reads {SCHEMA_VERSION})")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("BEGIN IMMEDIATE")
        if db.execute("PRAGMA user_version").fetchone()[0] == 0:  # another process may have just made it
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")

    def _error(self, reason: str) -> ConversationStoreError:
        return ConversationStoreError(f"the conversation store {self.path} {reason}")


def _reason(exc: sqlite3.Error) -> str:
    """What sqlite3 said, as the rest of a sentence about the store, with what to do."""
    text = one_line(exc, 160)
    if "not a database" in text or "malformed" in text:
        return f"is damaged ({text}); move it away to start a new one"
    if "locked" in text or "busy" in text:
        return f"is locked by another program ({text})"
    return f"cannot be used ({text})"
