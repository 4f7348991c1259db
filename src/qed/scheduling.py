"""FSRS scheduling for the flashcards, through the ``fsrs`` package (never a home-made scheduler).

A card is a question page; its key is the page id (the slug), which never changes. FSRS wants an
integer card id too: it is derived from the page id with SHA-256, so it is the same on every
machine and in every run (Python's ``hash`` is salted per process).
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta, timezone

from fsrs import Card, Rating, Scheduler

RATINGS = (Rating.Again, Rating.Hard, Rating.Good, Rating.Easy)  # keys 1-4
RATING_NAMES = {Rating.Again: "Again", Rating.Hard: "Hard", Rating.Good: "Good", Rating.Easy: "Easy"}


def card_id(page_id: str) -> int:
    """The FSRS card id of a page: the first 63 bits of SHA-256 of its id (fits SQLite's INTEGER)."""
    digest = hashlib.sha256(page_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def fuzzing_enabled() -> bool:
    """Fuzzing spreads due dates a little so that cards learned together separate; on for users.

    ``QED_FUZZ=0`` turns it off (the tests do, to get exact intervals).
    """
    return os.environ.get("QED_FUZZ", "1").strip().lower() not in {"0", "false", "no", "off"}


def make_scheduler(fuzzing: bool | None = None) -> Scheduler:
    return Scheduler(enable_fuzzing=fuzzing_enabled() if fuzzing is None else fuzzing)


def new_card(page_id: str, now: datetime) -> Card:
    return Card(card_id=card_id(page_id), due=now)


def preview(scheduler: Scheduler, card: Card, now: datetime) -> dict[Rating, timedelta]:
    """The interval each rating would give, as Anki shows above its four buttons.

    ``review_card`` returns a new card and leaves its argument alone, so this changes nothing.
    The preview is unfuzzed, as Anki's is; with fuzzing on, the real due date differs by the fuzz.
    """
    if scheduler.enable_fuzzing:
        settings = scheduler.to_dict()
        settings["enable_fuzzing"] = False
        scheduler = Scheduler.from_dict(settings)
    return {rating: scheduler.review_card(card, rating, now)[0].due - now for rating in RATINGS}


def state_name(card: Card | None) -> str:
    """'new' for a card never rated, else its FSRS state: 'learning', 'review' or 'relearning'."""
    return "new" if card is None else card.state.name.lower()


def format_interval(delta: timedelta) -> str:
    """Anki's short form: <1m, 10m, 3h, 4d, 2.1mo, 1.3y."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{round(seconds / 60)}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30:.1f}mo"
    return f"{days / 365:.1f}y"


def format_due(due: datetime | None, now: datetime) -> str:
    """When a card is due, relative to now: 'new', 'now', 'in 3d', '2d ago'."""
    if due is None:
        return "new"
    delta = due - now
    if abs(delta.total_seconds()) < 60:
        return "now"
    if delta.total_seconds() < 0:
        return f"{format_interval(-delta)} ago"
    return f"in {format_interval(delta)}"
