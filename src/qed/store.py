"""The review store: one SQLite file holding each card's FSRS state and the log of every rating.

- One file under the user's data directory (XDG on Linux), or ``--db`` / ``QED_DB``.
- Each rating is one ``BEGIN IMMEDIATE`` transaction that re-reads the card, schedules it, writes
  the card and appends the review, then commits: a killed process loses nothing it acknowledged,
  and two sessions on the same file never lose each other's reviews (the second waits its turn).
- The schema version is ``PRAGMA user_version``; migrations are explicit, numbered steps.
- A file that is not a QED database, is corrupt, locked or from a newer schema gives a one-line
  :class:`StoreError` naming the file. Nothing here ever deletes, truncates or recreates a file.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

from fsrs import Card, Rating, Scheduler, State

from qed.scheduling import card_id, new_card

APPLICATION_ID = 0x51454431  # "QED1" in the SQLite header, so a foreign database is recognised
SQLITE_MAGIC = b"SQLite format 3\x00"

# Migration n takes a database from schema n-1 to schema n. Never edit a released step; add one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE cards (
            page_id     TEXT PRIMARY KEY,
            card_id     INTEGER NOT NULL UNIQUE,
            state       INTEGER NOT NULL,       -- fsrs.State: 1 learning, 2 review, 3 relearning
            step        INTEGER,
            stability   REAL,
            difficulty  REAL,
            due         REAL NOT NULL,          -- Unix seconds, UTC
            last_review REAL
        )""",
        "CREATE INDEX cards_due ON cards (due)",
        """CREATE TABLE reviews (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            page_id      TEXT NOT NULL,
            card_id      INTEGER NOT NULL,
            rating       INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            reviewed_at  REAL NOT NULL,         -- Unix seconds, UTC
            duration_ms  INTEGER,
            state_before INTEGER NOT NULL,      -- 0 new, else fsrs.State before the rating
            due_after    REAL NOT NULL
        )""",
        "CREATE INDEX reviews_time ON reviews (reviewed_at)",
        "CREATE INDEX reviews_page ON reviews (page_id)",
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)


class StoreError(Exception):
    """A review database that cannot be used; the message is one line naming the file."""

    def __init__(self, path: Path | str, what: str):
        self.path = str(path)
        self.what = what
        super().__init__(f"{path}: {what}")


def default_path() -> Path:
    """``QED_DB`` if set, else ``reviews.sqlite3`` in the user's data directory (XDG on Linux)."""
    if os.environ.get("QED_DB"):
        return Path(os.environ["QED_DB"]).expanduser()
    from platformdirs import user_data_path

    return user_data_path("qed", appauthor=False) / "reviews.sqlite3"


def busy_timeout() -> float:
    """Seconds a write waits for another session's transaction before giving up (``QED_BUSY_TIMEOUT``)."""
    try:
        return float(os.environ.get("QED_BUSY_TIMEOUT", "10"))
    except ValueError:
        return 10.0


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _dt(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


INSERT_CARD = "INSERT OR REPLACE INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_REVIEW = (
    "INSERT INTO reviews (page_id, card_id, rating, reviewed_at, duration_ms, state_before, due_after)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def card_row(page_id: str, card: Card) -> tuple:
    """A card as a row of ``cards`` (for :data:`INSERT_CARD`)."""
    return (
        page_id, card_id(page_id), card.state.value, card.step, card.stability, card.difficulty,
        _ts(card.due), _ts(card.last_review),
    )


def review_row(page_id: str, rating: int, moment: datetime, duration_ms: int | None, state_before: int, due: datetime) -> tuple:
    """A rating as a row of ``reviews`` (for :data:`INSERT_REVIEW`)."""
    return (page_id, card_id(page_id), int(rating), moment.timestamp(), duration_ms, state_before, due.timestamp())


class Store:
    def __init__(self, path: Path | str, *, create: bool = True):
        self.path = Path(path)
        self._check_file(create)
        try:
            self.db = sqlite3.connect(self.path, timeout=busy_timeout(), isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(self.path, f"cannot open the review database ({error})") from None
        try:
            self._prepare()
        except sqlite3.DatabaseError as error:
            self.db.close()
            raise StoreError(self.path, self._describe(error)) from None
        except StoreError:
            self.db.close()
            raise

    # -- opening -----------------------------------------------------------------------------
    def _check_file(self, create: bool) -> None:
        if self.path.is_dir():
            raise StoreError(self.path, "is a directory, not a review database")
        if self.path.exists():
            try:
                with self.path.open("rb") as handle:
                    head = handle.read(len(SQLITE_MAGIC))
            except OSError as error:
                raise StoreError(self.path, f"cannot read the review database ({error.strerror})") from None
            if head and head != SQLITE_MAGIC:
                raise StoreError(self.path, "is not a SQLite database (left untouched)")
        elif not create:
            raise StoreError(self.path, "no review database here yet (run qed quiz first)")
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(self.path, f"cannot create its folder ({error.strerror})") from None

    def _describe(self, error: sqlite3.Error) -> str:
        text = str(error)
        if "locked" in text or "busy" in text:
            return f"the review database is locked by another process (waited {busy_timeout():g} s; try again)"
        if "malformed" in text or "corrupt" in text:
            return "the review database is corrupt (left untouched; restore a backup or pass --db)"
        if "not a database" in text:
            return "is not a SQLite database (left untouched)"
        return f"review database error: {text}"

    def _prepare(self) -> None:
        db = self.db
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout() * 1000)}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                self.path,
                f"written by a newer qed (schema {version}; this qed reads up to {SCHEMA_VERSION}); upgrade qed",
            )
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        application = db.execute("PRAGMA application_id").fetchone()[0]
        if tables and application != APPLICATION_ID:
            raise StoreError(self.path, "is a SQLite database but not a QED review database (left untouched)")
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise StoreError(self.path, "the review database is corrupt (left untouched; restore a backup or pass --db)")
        if version < SCHEMA_VERSION:
            self.migrate()
        db.execute("PRAGMA journal_mode = WAL")  # readers never block the writer of a second session
        db.execute("PRAGMA synchronous = FULL")  # a commit is on disk before the next card shows

    def migrate(self) -> None:
        """Apply the missing migrations, each in one transaction with its version bump."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # re-read under the lock
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, function, *args):
        try:
            return function(*args)
        except sqlite3.DatabaseError as error:
            raise StoreError(self.path, self._describe(error)) from None

    # -- cards ---------------------------------------------------------------------------------
    @staticmethod
    def _card(row) -> Card:
        _, cid, state, step, stability, difficulty, due, last_review = row
        return Card(
            card_id=cid,
            state=State(state),
            step=step,
            stability=stability,
            difficulty=difficulty,
            due=_dt(due),
            last_review=_dt(last_review),
        )

    def cards(self) -> dict[str, Card]:
        """Every card that has been reviewed at least once, by page id (retired pages included)."""
        rows = self._run(lambda: self.db.execute("SELECT * FROM cards").fetchall())
        return {row[0]: self._card(row) for row in rows}

    def card(self, page_id: str) -> Card | None:
        row = self._run(lambda: self.db.execute("SELECT * FROM cards WHERE page_id = ?", (page_id,)).fetchone())
        return None if row is None else self._card(row)

    def record(
        self,
        page_id: str,
        rating: Rating,
        scheduler: Scheduler,
        now: datetime,
        duration_ms: int | None = None,
    ) -> Card:
        """Rate a card: schedule it from its state in the file (not a stale copy) and commit at once."""
        return self._run(self._record, page_id, rating, scheduler, now, duration_ms)

    def _record(self, page_id, rating, scheduler, now, duration_ms) -> Card:
        db = self.db
        db.execute("BEGIN IMMEDIATE")  # take the write lock first, so the read below is current
        try:
            row = db.execute("SELECT * FROM cards WHERE page_id = ?", (page_id,)).fetchone()
            card = new_card(page_id, now) if row is None else self._card(row)
            state_before = 0 if row is None else card.state.value
            updated, _ = scheduler.review_card(card, rating, now, duration_ms)
            db.execute(INSERT_CARD, card_row(page_id, updated))
            db.execute(INSERT_REVIEW, review_row(page_id, rating, now, duration_ms, state_before, updated.due))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return updated

    # -- the log -------------------------------------------------------------------------------
    def reviews_per_day(self) -> dict[date, int]:
        """Reviews per local calendar day, counted by SQLite (fast over many thousands of reviews)."""
        query = "SELECT date(reviewed_at, 'unixepoch', 'localtime') AS day, count(*) FROM reviews GROUP BY day"
        rows = self._run(lambda: self.db.execute(query).fetchall())
        return {date.fromisoformat(day): count for day, count in rows}

    def mature_reviews(self, since: datetime) -> tuple[int, int]:
        """(reviews of cards in the Review state since ``since``, how many of them were not Again)."""
        query = (
            "SELECT count(*), coalesce(sum(rating > 1), 0) FROM reviews"
            f" WHERE reviewed_at >= ? AND state_before = {State.Review.value}"
        )
        return tuple(self._run(lambda: self.db.execute(query, (since.timestamp(),)).fetchone()))

    def review_count(self) -> int:
        return self._run(lambda: self.db.execute("SELECT count(*) FROM reviews").fetchone()[0])

    def new_cards_since(self, since: datetime) -> int:
        """How many cards were seen for the first time since ``since`` (the daily new-card limit)."""
        query = "SELECT count(*) FROM reviews WHERE state_before = 0 AND reviewed_at >= ?"
        return self._run(lambda: self.db.execute(query, (since.timestamp(),)).fetchone()[0])

    def integrity(self) -> str:
        return self._run(lambda: self.db.execute("PRAGMA integrity_check").fetchone()[0])
