"""The review session behind ``qed quiz``: due cards first, then new ones, one key at a time.

The loop reads keys from a callable, so the tests can drive it without a terminal; the CLI passes
:class:`TerminalKeys`, which puts the terminal in cbreak mode (one key, no Enter) and restores it.
Every rating is committed by :meth:`qed.store.Store.record` before the next card is shown.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from fsrs import Card, Rating, State
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from qed.deck import Deck, page_label, terminal_markdown
from qed.pages import Page, load_sections
from qed.scheduling import RATING_NAMES, RATINGS, format_due, format_interval, new_card, now_utc, preview, state_name
from qed.store import Store

LEARN_AHEAD = timedelta(minutes=20)  # as Anki: learning cards due this soon are shown before the session ends
HELP = "[Enter] answer  [c] claims  [r] run proof  [o] address  [s] skip  [q] quit"
RATE_HELP = "[1-4] rate  [c] claims  [r] run proof  [o] address  [s] skip  [q] quit"
QUIT_KEYS = {"q", "Q"}


class TerminalKeys:
    """Single keys from a terminal in cbreak mode; Ctrl-D and end of input raise EOFError."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdin
        self.fd = self.stream.fileno()
        self.saved = None

    def __enter__(self) -> TerminalKeys:
        import termios
        import tty

        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)  # keys arrive one at a time; Ctrl-C still raises KeyboardInterrupt
        return self

    def __exit__(self, *exc) -> None:
        import termios

        if self.saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def __call__(self) -> str:
        data = os.read(self.fd, 1)
        if not data or data == b"\x04":
            raise EOFError
        if data == b"\x1b":  # an escape sequence (arrow keys...): swallow the rest of it
            import select

            while select.select([self.fd], [], [], 0.01)[0]:
                os.read(self.fd, 16)
            return ""
        return data.decode("latin-1")


@dataclass
class Summary:
    reviewed: int = 0
    again: int = 0
    skipped: int = 0
    cram: bool = False
    next_due: tuple[datetime, Page] | None = None


def local_midnight(now: datetime) -> datetime:
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def new_card_order(pages: list[Page]) -> list[Page]:
    """New cards come in the site's order: by section (nav order), then level, then id."""
    order = {entry["key"]: index for index, entry in enumerate(load_sections())}
    return sorted(pages, key=lambda page: (order.get(page.section, len(order)), page.level, page.id))


class Session:
    def __init__(
        self,
        deck: Deck,
        store: Store,
        pages: list[Page],
        console: Console,
        read_key: Callable[[], str],
        *,
        scheduler,
        new_limit: int = 10,
        cram: bool = False,
        lang: str = "en",
        clock: Callable[[], datetime] = now_utc,
    ):
        self.deck, self.store, self.pages, self.console = deck, store, pages, console
        self.read_key, self.scheduler, self.clock = read_key, scheduler, clock
        self.new_limit, self.cram, self.lang = new_limit, cram, lang
        self.summary = Summary(cram=cram)
        self.skipped: set[str] = set()
        self.seen: set[str] = set()
        self.queue = self.build_queue()

    # -- the queue -----------------------------------------------------------------------------
    def build_queue(self) -> list[Page]:
        now = self.clock()
        cards = self.store.cards()
        reviewed = [page for page in self.pages if page.id in cards]
        fresh = new_card_order([page for page in self.pages if page.id not in cards])
        if self.cram:  # everything that matches, the most overdue first, new cards last
            return sorted(reviewed, key=lambda page: cards[page.id].due) + fresh
        due = sorted((page for page in reviewed if cards[page.id].due <= now), key=lambda page: cards[page.id].due)
        room = max(0, self.new_limit - self.store.new_cards_since(local_midnight(now)))
        self.counts = (len(due), min(room, len(fresh)))
        return due + fresh[:room]

    def next_page(self) -> Page | None:
        while self.queue:
            page = self.queue.pop(0)
            if page.id not in self.skipped:
                return page
        if self.cram:
            return None
        # learning steps (1 min, 10 min) make cards due again during a session, as in Anki
        horizon = self.clock() + LEARN_AHEAD
        cards = self.store.cards()
        soon = [
            page
            for page in self.pages
            if page.id in cards and page.id not in self.skipped and cards[page.id].due <= horizon
            and cards[page.id].state in (State.Learning, State.Relearning)
        ]
        return min(soon, key=lambda page: cards[page.id].due) if soon else None

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> Summary:
        try:
            if self.cram:
                self.console.print(f"Cram: {len(self.queue)} cards; ratings are not saved.")
            else:
                due, fresh = self.counts
                self.console.print(f"{due} due · {fresh} new (at most {self.new_limit} a day) · {len(self.pages)} questions in scope")
            page = self.next_page()  # may be a learning card from an earlier session, due within minutes
            if page is None:
                self.console.print(self.nothing_due())
            while page is not None and self.review(page):
                page = self.next_page()
        except (KeyboardInterrupt, EOFError):
            self.console.print()
        self.finish()
        return self.summary

    def review(self, page: Page) -> bool:
        """Show one card and take keys until it is rated or skipped; False when the user quits."""
        card = self.store.card(page.id)
        now = self.clock()
        self.show_front(page, card)
        shown_at = time.monotonic()
        revealed = False
        while True:
            key = self.read_key()
            if key in QUIT_KEYS:
                return False
            if key in ("\n", "\r", " ") and not revealed:
                revealed = True
                self.show_back(page, card or new_card(page.id, now), now)
            elif key in "1234" and key and revealed:
                rating = RATINGS[int(key) - 1]
                duration = int((time.monotonic() - shown_at) * 1000)
                self.rate(page, rating, duration)
                return True
            elif key in "1234" and key:
                self.console.print("[dim]Press Enter to see the answer first.[/dim]")
            elif key in ("c", "C"):
                self.show_claims(page)
            elif key in ("r", "R"):
                self.run_proof(page)
            elif key in ("o", "O"):
                self.console.print(f"[bold]Page:[/bold] {self.deck.url(page)}", soft_wrap=True)
            elif key in ("s", "S"):
                self.skipped.add(page.id)
                self.summary.skipped += 1
                self.console.print("[dim]Skipped.[/dim]")
                return True

    def rate(self, page: Page, rating: Rating, duration_ms: int) -> None:
        now = self.clock()
        if self.cram:
            card = self.store.card(page.id) or new_card(page.id, now)
            due = self.scheduler.review_card(card, rating, now)[0].due
            note = "cram: schedule unchanged"
        else:
            due = self.store.record(page.id, rating, self.scheduler, now, duration_ms).due
            note = f"due {format_due(due, now)}"
        self.summary.reviewed += 1
        self.summary.again += rating == Rating.Again
        self.console.print(f"[bold]{RATING_NAMES[rating]}[/bold] · {note}")

    # -- screens -------------------------------------------------------------------------------
    def show_front(self, page: Page, card: Card | None) -> None:
        console = self.console
        position = self.summary.reviewed + self.summary.skipped + 1
        title = f"{position} · {state_name(card)} · {page_label(page)} · {len(self.queue)} left"
        console.rule(f"[dim]{title}[/dim]")
        english = Text(page.question, style="bold")
        chinese = [Text(line, style="bold" if self.lang == "zh" else "dim") for line in page.zh]
        lines = chinese + [Text(page.question, style="dim")] if self.lang == "zh" and chinese else [english, *chinese]
        for line in lines:
            console.print(line)
        console.print(Text(HELP, style="dim"))

    def show_back(self, page: Page, card: Card, now: datetime) -> None:
        from rich.markdown import Markdown

        console = self.console
        console.print()
        console.print(Markdown(terminal_markdown(page.short_answer)))
        intervals = preview(self.scheduler, card, now)
        buttons = "   ".join(
            f"[bold]{index}[/bold] {RATING_NAMES[rating]} {format_interval(intervals[rating])}"
            for index, rating in enumerate(RATINGS, start=1)
        )
        console.print(buttons)
        console.print(Text(RATE_HELP, style="dim"))

    def show_claims(self, page: Page) -> None:
        from qed.claims import read_claims

        modules = self.deck.module_paths(page)
        if not modules:
            self.console.print("[dim]No proof module: this answer is advice, not a measurable claim.[/dim]")
        for module in modules:
            claims = read_claims(module)
            self.console.print(f"[bold]{len(claims)} claims[/bold] in {module.relative_to(self.deck.root)}:")
            print_claims(self.console, claims)

    def run_proof(self, page: Page) -> None:
        from qed.proofs import run_proofs

        modules = self.deck.module_paths(page)
        if not modules:
            self.console.print("[dim]No proof module to run.[/dim]")
            return
        with self.console.status("running the proof with pytest..."):
            outcomes, _ = run_proofs(self.deck.root, modules)
        print_outcomes(self.console, outcomes)

    def next_due(self) -> tuple[datetime, Page] | None:
        """The card in scope due soonest, with its due date (None when none was ever rated)."""
        cards = self.store.cards()
        upcoming = [(cards[page.id].due, page) for page in self.pages if page.id in cards]
        return min(upcoming, key=lambda item: item[0]) if upcoming else None

    def nothing_due(self) -> str:
        upcoming = self.next_due()
        when = f" Next due {format_due(upcoming[0], self.clock())}." if upcoming else ""
        return f"Nothing due now and no new cards left for today (--new {self.new_limit}).{when}"

    def finish(self) -> None:
        summary = self.summary
        summary.next_due = self.next_due()
        rate = f"{summary.again / summary.reviewed:.0%}" if summary.reviewed else "n/a"
        line = f"Reviewed {summary.reviewed} card{'s' * (summary.reviewed != 1)} · again-rate {rate} ({summary.again} again)"
        if summary.skipped:
            line += f" · {summary.skipped} skipped"
        if summary.next_due:
            due, page = summary.next_due
            line += f" · next due {format_due(due, self.clock())} ({page.id})"
        if summary.cram:
            line += " · cram: the schedule was not changed"
        self.console.rule()
        self.console.print(line, soft_wrap=True)


def print_claims(console: Console, claims) -> None:
    """One bullet a claim: its name and its one-sentence docstring."""
    for claim in claims:
        console.print(f"  • {claim.name}: {escape(claim.doc)}", soft_wrap=True)


def print_outcomes(console: Console, outcomes) -> None:
    passed = sum(outcome.ok for outcome in outcomes)
    for outcome in outcomes:
        mark = "[green]✔[/green]" if outcome.ok else "[red]✘[/red]"
        detail = f"{outcome.status}: {outcome.message}" if outcome.message else outcome.status
        extra = "" if outcome.ok else f" [red]({escape(detail)})[/red]"
        console.print(f"  {mark} {outcome.claim.name}: {escape(outcome.claim.doc)}{extra}", soft_wrap=True)
    failed = len(outcomes) - passed
    console.print(f"[bold]{passed} passed, {failed} failed[/bold]")
