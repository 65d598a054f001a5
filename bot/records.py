"""What storybot keeps besides the index: the audit log of story changes, members' votes on answers, and the
version of each story the bot last knew (the story feed's memory, so it survives restarts).

One SQLite file next to the index (`<index dir>/storybot.sqlite3`); the index directory only ever prunes
its own `gen-*` and `.building-*` entries, so the file is safe there. No Discord in here: a member is
given as an integer id and stored only as a salted hash. The salt is made once and kept apart from the
hashes, in `storybot.salt` beside the database, so the database alone does not give member ids back;
both files are readable by their owner only (0600).

Every method opens its own short connection, so a `Records` may be used from any thread; WAL mode lets
readers (an export, a summary) run while the bot writes.
"""

import csv
import hashlib
import logging
import os
import secrets
import sqlite3
import threading
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from index import Answer, Story

log = logging.getLogger(__name__)

RECORDS_FILE = "storybot.sqlite3"
BUSY_SECONDS = 1.0  # how long a vote, a summary or an audit row waits for another writer's lock (a vote must be answered within 3 s)
SAVE_BUSY_SECONDS = 0.5  # the same for saving an answer, which happens on every question
UP, DOWN = 1, -1
NO_STORY = "(no story: the bot said no story covers it)"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER,                -- a moderator's Discord id; NULL for the directory watcher
    actor TEXT NOT NULL,             -- their name at the time, or what made the change
    action TEXT NOT NULL,            -- add, update, remove, reindex
    title TEXT,
    file TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    asked_at TEXT NOT NULL,
    question TEXT NOT NULL,
    answered INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS answer_stories (
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,       -- 0 for the main story of the answer
    story_id TEXT NOT NULL,
    title TEXT NOT NULL,
    bullets TEXT NOT NULL,           -- 1-based bullet indexes shown, best first: "3,1"
    PRIMARY KEY (answer_id, position)
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    member TEXT NOT NULL,            -- salted hash of the member's id, never the id
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, member)
);
CREATE TABLE IF NOT EXISTS story_versions (
    story_id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,      -- Story.content_hash() of the version last announced (or taken as the baseline)
    story TEXT NOT NULL,             -- that version, as index.Story JSON
    previous TEXT,                   -- the version before it, as JSON; NULL while only one is known
    recorded_at TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0  -- 1 once the story left the index (a story added again is new again)
);
"""
BASELINE_KEY = "story_versions_baseline"  # in meta: when the current stories were first recorded, unannounced

EXPORT_COLUMNS = ["answer_id", "asked_at", "question", "answered", "story_ids", "titles", "bullets", "vote", "voted_at", "member"]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor_id: int | None
    actor: str
    action: str
    title: str | None
    file: str | None
    detail: str


@dataclass(frozen=True)
class Tally:
    """Votes on one story, or on one question."""

    name: str
    up: int
    down: int

    @property
    def score(self) -> int:
        return self.up - self.down


@dataclass(frozen=True)
class FeedbackSummary:
    stories: list[Tally]  # every story voted on, most votes first
    worst: list[Tally]  # questions with more 👎 than 👍, worst first
    votes: int


def _inert(value):
    """A member's question is shown as text, never run as a formula when the CSV is opened (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


class RecordsUnavailable(Exception):
    """The records database cannot be used now (locked, read-only, corrupt, disk full); the message says why."""


class Records:
    """Opened on first use, not when made: answering never needs the records, so a broken database must
    not stop the bot. Any failure raises `RecordsUnavailable`, logged once until the database works again."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._salt: bytes | None = None
        self._failing = False
        self._state = threading.Lock()

    @classmethod
    def beside(cls, index_dir: Path) -> "Records":
        return cls(Path(index_dir) / RECORDS_FILE)

    @property
    def salt_path(self) -> Path:
        return self.path.with_suffix(".salt")

    def _set_up(self, db: sqlite3.Connection) -> None:
        """First use: the schema, and the salt from its own file (made, or moved out of an older database)."""
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA secure_delete=ON")  # a deleted salt is overwritten, not left in a free page
        with db:
            db.executescript(SCHEMA)
            legacy = db.execute("SELECT value FROM meta WHERE key = 'member_salt'").fetchone()
            salt = self._salt_from_file(legacy[0] if legacy else None)
            db.execute("DELETE FROM meta WHERE key = 'member_salt'")
        if legacy:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and out of the write-ahead log
        self._salt = salt

    def _salt_from_file(self, legacy: str | None) -> bytes:
        """The salt file's value; a missing one is written (0600) from `legacy` or fresh, atomically."""
        if not self.salt_path.exists():
            scratch = self.salt_path.with_name(f".{self.salt_path.name}.{secrets.token_hex(4)}.tmp")
            try:
                with os.fdopen(os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                    out.write((legacy or secrets.token_hex(16)) + "\n")
                os.link(scratch, self.salt_path)  # never replaces a salt another process made meanwhile
            except FileExistsError:
                pass
            finally:
                scratch.unlink(missing_ok=True)
        text = self.salt_path.read_text(encoding="ascii", errors="replace").strip()
        if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
            raise OSError(f"{self.salt_path} is damaged (expected 32 hex digits)")
        return bytes.fromhex(text)

    def _create_private(self) -> None:
        """The database file made readable by its owner only (SQLite gives its WAL files the same mode)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        if self.path.stat().st_mode & 0o077:
            self.path.chmod(0o600)  # one made by an older version

    @contextmanager
    def _connect(self, timeout: float = BUSY_SECONDS):
        """One connection per call, committed at the end (rolled back on error) and always closed."""
        try:
            if self._salt is None:
                self._create_private()
            with closing(sqlite3.connect(self.path, timeout=timeout)) as db:
                if self._salt is None:
                    self._set_up(db)
                db.execute("PRAGMA foreign_keys=ON")
                db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across crashes of the process
                with db:
                    yield db
                wrote = db.total_changes > 0
        except (sqlite3.Error, OSError) as exc:
            self._unavailable(exc)
        # Only a write proves the database works again: on a full disk reads still succeed, and taking one for a
        # recovery would log the failure again at every question.
        if self._failing and wrote:
            with self._state:
                self._failing = False
            log.info("the records database %s works again", self.path)

    def _unavailable(self, exc: Exception) -> NoReturn:
        message = f"the records database {self.path} cannot be used ({exc}); votes and the audit log are unavailable until it can"
        with self._state:
            first, self._failing = not self._failing, True
        (log.error if first else log.debug)("%s", message)
        raise RecordsUnavailable(message) from exc

    def member_hash(self, member_id: int) -> str:
        if self._salt is None:
            with self._connect():
                pass
        return hashlib.blake2b(str(member_id).encode(), key=self._salt, digest_size=16).hexdigest()

    # ---------------------------------------------------------------- audit log

    def audit(self, action: str, *, actor: str, actor_id: int | None = None, title: str | None = None,
              file: str | None = None, detail: str = "") -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO audit (at, actor_id, actor, action, title, file, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now(), actor_id, actor, action, title, file, detail),
            )

    def audit_log(self) -> list[AuditEntry]:
        """Every change, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT at, actor_id, actor, action, title, file, detail FROM audit ORDER BY id").fetchall()
        return [AuditEntry(*row) for row in rows]

    # ---------------------------------------------------------------- answers and votes

    @staticmethod
    def new_answer_id() -> str:
        return uuid.uuid4().hex

    def save_answer(self, answer: Answer, answer_id: str | None = None) -> str:
        """Keep what was shown (question, stories, bullets) under the id the vote buttons carry (a new one if not given).

        Waits at most SAVE_BUSY_SECONDS for a lock: a busy database must not tie up the threads that save."""
        answer_id = answer_id or self.new_answer_id()
        with self._connect(timeout=SAVE_BUSY_SECONDS) as db:
            db.execute("INSERT INTO answers (id, asked_at, question, answered) VALUES (?, ?, ?, ?)",
                       (answer_id, now(), answer.question, int(answer.answered)))
            db.executemany(
                "INSERT INTO answer_stories (answer_id, position, story_id, title, bullets) VALUES (?, ?, ?, ?, ?)",
                [(answer_id, position, story.id, story.title, ",".join(str(fact.index) for fact in story.facts))
                 for position, story in enumerate(answer.stories)],
            )
        return answer_id

    def vote(self, answer_id: str, member_id: int, vote: int) -> bool:
        """Record a member's 👍 (UP) or 👎 (DOWN); a second vote replaces the first. False for an unknown answer."""
        if vote not in (UP, DOWN):
            raise ValueError(f"a vote is {UP} or {DOWN}, not {vote!r}")
        with self._connect() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                if self._failing:  # most likely not saved because the records are failing: say so, not "unknown"
                    raise RecordsUnavailable(f"the records database {self.path} cannot save answers now")
                return False
            db.execute(
                "INSERT INTO votes (answer_id, member, vote, voted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (answer_id, member) DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                (answer_id, self.member_hash(member_id), vote, now()),
            )
        return True

    def votes(self) -> list[dict]:
        """One row per vote with what was shown, as exported (columns: EXPORT_COLUMNS), oldest first."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            votes = db.execute(
                "SELECT a.id AS answer_id, a.asked_at, a.question, a.answered, v.vote, v.voted_at, v.member "
                "FROM votes v JOIN answers a ON a.id = v.answer_id ORDER BY v.voted_at, a.id, v.member"
            ).fetchall()
            shown: dict[str, list[sqlite3.Row]] = {}
            for story in db.execute("SELECT * FROM answer_stories WHERE answer_id IN (SELECT answer_id FROM votes) "
                                    "ORDER BY answer_id, position"):
                shown.setdefault(story["answer_id"], []).append(story)
        rows = []
        for vote in votes:
            stories = shown.get(vote["answer_id"], [])
            rows.append({
                **dict(vote),
                "vote": "up" if vote["vote"] == UP else "down",
                "story_ids": " | ".join(s["story_id"] for s in stories),
                "titles": " | ".join(s["title"] for s in stories),
                "bullets": " | ".join(s["bullets"] for s in stories),
            })
        return rows

    def export_csv(self, path: Path) -> int:
        """Write every vote to a CSV file; returns how many rows."""
        rows = self.votes()
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
            writer.writeheader()
            writer.writerows({key: _inert(value) for key, value in row.items()} for row in rows)
        return len(rows)

    def summary(self, worst: int = 5) -> FeedbackSummary:
        """Votes per story shown, and the questions members liked least."""
        with self._connect() as db:
            stories = db.execute(
                f"""
                SELECT COALESCE(s.title, '{NO_STORY}'), SUM(v.vote = 1), SUM(v.vote = -1)
                FROM votes v LEFT JOIN answer_stories s ON s.answer_id = v.answer_id
                GROUP BY COALESCE(s.story_id, '')
                ORDER BY COUNT(*) DESC, SUM(v.vote) ASC
                """
            ).fetchall()
            questions = db.execute(
                """
                SELECT MIN(a.question), SUM(v.vote = 1), SUM(v.vote = -1)
                FROM votes v JOIN answers a ON a.id = v.answer_id
                GROUP BY LOWER(a.question)
                HAVING SUM(v.vote) < 0
                ORDER BY SUM(v.vote) ASC, SUM(v.vote = -1) DESC, MIN(a.question)
                LIMIT ?
                """,
                (worst,),
            ).fetchall()
            total = db.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        return FeedbackSummary([Tally(*row) for row in stories], [Tally(*row) for row in questions], total)


@dataclass(frozen=True)
class Claim:
    """A story version this process now announces: no other process or later call will claim it again."""

    story: Story
    previous: Story | None  # the version the bot knew before, if any
    added: bool  # new to the bot (never seen, or removed since): posted as its card, not as changes


def _story_json(story: Story) -> str:
    return story.model_dump_json(exclude={"source_file"})


def _story_from_json(text: str | None) -> Story | None:
    return Story.model_validate_json(text) if text else None


class StoryVersions:
    """The versions of stories the bot last knew, kept in the records database (`story_versions`)."""

    def __init__(self, records: Records):
        self.records = records

    def recorded(self) -> dict[str, str] | None:
        """Every story still in the index as last recorded: id -> content hash; None before the baseline."""
        with self.records._connect() as db:
            if db.execute("SELECT 1 FROM meta WHERE key = ?", (BASELINE_KEY,)).fetchone() is None:
                return None
            return dict(db.execute("SELECT story_id, content_hash FROM story_versions WHERE removed = 0"))

    def record_baseline(self, stories: list[Story]) -> bool:
        """Record `stories` as known, announcing none of them; False if a baseline exists already (another
        process took it first), and then nothing is written."""
        with self.records._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # the check and the writes as one: two processes cannot both take it
            if db.execute("SELECT 1 FROM meta WHERE key = ?", (BASELINE_KEY,)).fetchone() is not None:
                return False
            at = now()
            db.executemany(
                "INSERT INTO story_versions (story_id, content_hash, story, recorded_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (story_id) DO NOTHING",
                [(story.id, story.content_hash(), _story_json(story), at) for story in stories],
            )
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (BASELINE_KEY, at))
        return True

    def claim(self, story: Story) -> Claim | None:
        """Make `story` the version last known and return what it replaces, in one transaction; None when this
        version is known already (announced before, by this process or another), and then nothing changes."""
        content_hash = story.content_hash()
        with self.records._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # read and write under one lock: a version is claimed exactly once
            row = db.execute("SELECT content_hash, story, removed FROM story_versions WHERE story_id = ?", (story.id,)).fetchone()
            if row is not None and row[0] == content_hash and not row[2]:
                return None
            db.execute(
                "INSERT INTO story_versions (story_id, content_hash, story, previous, recorded_at, removed) VALUES (?, ?, ?, ?, ?, 0) "
                "ON CONFLICT (story_id) DO UPDATE SET content_hash = excluded.content_hash, story = excluded.story, "
                "previous = excluded.previous, recorded_at = excluded.recorded_at, removed = 0",
                (story.id, content_hash, _story_json(story), row[1] if row else None, now()),
            )
        return Claim(story, _story_from_json(row[1]) if row else None, added=row is None or bool(row[2]))

    def mark_removed(self, story_ids) -> None:
        """Stories that left the index: never announced; one that comes back is announced as new."""
        with self.records._connect() as db:
            db.executemany("UPDATE story_versions SET removed = 1 WHERE story_id = ?", [(story_id,) for story_id in story_ids])

    def previous_version(self, story: Story) -> Story | None:
        """The version of `story` the bot knew before this one, or None when it knows no other."""
        with self.records._connect() as db:
            row = db.execute("SELECT content_hash, story, previous FROM story_versions WHERE story_id = ?", (story.id,)).fetchone()
        if row is None:
            return None
        # This version is the one last recorded: the one before it. Otherwise (not announced yet, or the feed is
        # paused) the one last recorded is the previous.
        return _story_from_json(row[2] if row[0] == story.content_hash() else row[1])
