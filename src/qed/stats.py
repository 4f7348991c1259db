"""``qed stats``: what is due, how much was done, how much is retained, and a heatmap of reviews.

True retention is Anki's: among reviews of cards that were in the Review state (not new, not in
learning steps), the share not rated Again. Days are local calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fsrs import State

from qed.pages import Page, load_sections
from qed.store import Store

HEATMAP_WEEKS = 16
SHADES = "·░▒▓█"  # no reviews, then four levels; readable without colour
COLOURS = ("grey23", "green4", "green3", "green1", "bright_green")


@dataclass
class Stats:
    due_now: int
    due_today: int
    due_week: int
    new_available: int
    reviews_today: int
    streak: int
    retention: float | None
    retention_reviews: int
    sections: list[tuple[str, int, int, int]]  # title, learned, in learning, total
    retired: int
    per_day: dict[date, int]
    today: date
    total_reviews: int


def daily_streak(days: set[date], today: date) -> int:
    """Consecutive days with a review, ending today (or yesterday, while today is still open)."""
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def compute(pages: list[Page], store: Store, now: datetime) -> Stats:
    local_now = now.astimezone()
    today = local_now.date()
    end_of_today = local_now.replace(hour=23, minute=59, second=59, microsecond=999999)
    cards = store.cards()
    visible = {page.id for page in pages}
    live = {page_id: card for page_id, card in cards.items() if page_id in visible}
    dues = [card.due for card in live.values()]
    per_day = store.reviews_per_day()
    mature, passed = store.mature_reviews(now - timedelta(days=30))
    sections = []
    for entry in load_sections():
        members = [page for page in pages if page.section == entry["key"]]
        if not members:
            continue
        learned = sum(1 for page in members if page.id in live and live[page.id].state == State.Review)
        learning = sum(1 for page in members if page.id in live and live[page.id].state != State.Review)
        sections.append((entry["title"], learned, learning, len(members)))
    return Stats(
        due_now=sum(due <= now for due in dues),
        due_today=sum(due <= end_of_today for due in dues),
        due_week=sum(due <= now + timedelta(days=7) for due in dues),
        new_available=len(visible - set(live)),
        reviews_today=per_day.get(today, 0),
        streak=daily_streak(set(per_day), today),
        retention=passed / mature if mature else None,
        retention_reviews=mature,
        sections=sections,
        retired=len(set(cards) - visible),
        per_day=dict(per_day),
        today=today,
        total_reviews=sum(per_day.values()),
    )


def render(stats: Stats, console) -> None:
    from rich.table import Table

    retention = (
        f"{stats.retention:.1%} of {stats.retention_reviews} mature reviews"
        if stats.retention is not None
        else "n/a (no mature reviews in 30 days)"
    )
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    for label, value in [
        ("Due now", stats.due_now),
        ("Due today", stats.due_today),
        ("Due this week", stats.due_week),
        ("New (never seen)", stats.new_available),
        ("Reviews today", stats.reviews_today),
        ("Daily streak", f"{stats.streak} day{'s' * (stats.streak != 1)}"),
        ("True retention (30 d)", retention),
        ("Reviews in all", stats.total_reviews),
        ("Retired cards", f"{stats.retired} (page gone; history kept)"),
    ]:
        summary.add_row(label, str(value))
    console.print(summary)

    table = Table(title="Progress by section (learned = in review)", title_justify="left")
    table.add_column("Section")
    table.add_column("Learned", justify="right")
    table.add_column("Learning", justify="right")
    table.add_column("Total", justify="right")
    table.add_column("")
    for title, learned, learning, total in stats.sections:
        width = 20
        bar = "█" * round(width * learned / total) + "▒" * round(width * learning / total)
        table.add_row(title, str(learned), str(learning), str(total), bar.ljust(width, "·"))
    console.print(table)
    console.print(heatmap(stats.per_day, stats.today))


def heatmap(per_day: dict[date, int], today: date, weeks: int = HEATMAP_WEEKS):
    """Reviews per day over the last ``weeks`` weeks, one column a week (Monday on top)."""
    from rich.text import Text

    start = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    peak = max((per_day.get(start + timedelta(days=d), 0) for d in range(7 * weeks)), default=0)
    text = Text(f"Reviews per day, last {weeks} weeks (peak {peak}):\n")
    for weekday, name in enumerate(["Mon", "", "Wed", "", "Fri", "", "Sun"]):
        text.append(f"{name:>3} ")
        for week in range(weeks):
            day = start + timedelta(days=7 * week + weekday)
            if day > today:
                text.append("  ")
                continue
            count = per_day.get(day, 0)
            level = 0 if count == 0 else 1 + min(3, int(4 * (count - 1) / peak)) if peak else 0
            text.append(SHADES[level] * 2, style=COLOURS[level])
        text.append("\n")
    text.append("    less " + "".join(SHADES[level] for level in range(5)) + " more")
    return text
