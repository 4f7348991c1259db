"""``qed``: flashcards from the knowledge base, scheduled with FSRS.

Every command reads the question pages through ``qed.pages`` (the one parser). Nothing here imports
torch: proofs run in a child pytest process. Bad input prints one line, ``qed: error: ...``, and
exits with 2.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from qed.deck import Deck, UsageError, section_titles
from qed.pages import PageError
from qed.store import Store, StoreError, default_path

app = typer.Typer(
    name="qed",
    help="Flashcards for deep-learning interviews, built from the QED pages and scheduled with FSRS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(help="Export the deck to other tools.", no_args_is_help=True)
app.add_typer(export_app, name="export")

DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", help="Review database (default: $QED_DB, else the user data folder).", show_default=False),
]
TagOption = Annotated[Optional[str], typer.Option("--tag", help="Only questions with this tag.")]
SectionOption = Annotated[Optional[str], typer.Option("--section", help="Only this section (e.g. convolution).")]
LevelOption = Annotated[Optional[str], typer.Option("--level", help="Only this level: 1, 2 or 3.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    print(f"qed: error: {message}", file=sys.stderr)
    return typer.Exit(code)


def handled(command):
    """Turn the project's errors into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (UsageError, StoreError, PageError) as error:
            raise fail(str(error)) from None

    return wrapper


def console() -> Console:
    return Console(highlight=False)


def open_store(db: Path | None, create: bool = True) -> Store:
    return Store(db if db is not None else default_path(), create=create)


@app.command()
@handled
def quiz(
    db: DbOption = None,
    tag: TagOption = None,
    section: SectionOption = None,
    level: LevelOption = None,
    new: Annotated[int, typer.Option("--new", min=0, help="New cards a day, at most.")] = 10,
    lang: Annotated[str, typer.Option("--lang", help="en, or zh to show the Chinese question first.")] = "en",
    cram: Annotated[bool, typer.Option("--cram", help="Review every matching card; the schedule is not changed.")] = False,
) -> None:
    """Review the cards due now, then new ones: Enter shows the answer, 1-4 rate it."""
    from qed.deck import unknown
    from qed.quiz import Session, TerminalKeys
    from qed.scheduling import make_scheduler

    if lang not in ("en", "zh"):
        raise UsageError(unknown("language", lang, ["en", "zh"]))
    if not sys.stdin.isatty():
        raise UsageError("qed quiz reads single keys and needs a terminal on stdin (for scripts: qed list, qed show)")
    deck = Deck.load()
    pages = deck.select(tag, section, level)
    if not pages:
        raise UsageError("no question matches these filters")
    with open_store(db) as store, TerminalKeys() as keys:
        session = Session(deck, store, pages, console(), keys, scheduler=make_scheduler(), new_limit=new, cram=cram, lang=lang)
        session.run()


@app.command()
@handled
def stats(db: DbOption = None) -> None:
    """Due cards, reviews, streak, true retention, progress by section and a heatmap."""
    from qed import stats as statistics
    from qed.scheduling import now_utc

    deck = Deck.load()
    with open_store(db) as store:
        statistics.render(statistics.compute(deck.pages, store, now_utc()), console())


@app.command("list")
@handled
def list_(db: DbOption = None, tag: TagOption = None, section: SectionOption = None, level: LevelOption = None) -> None:
    """A table of the questions: id, section, level, title, state, due."""
    from rich.table import Table

    from qed.scheduling import format_due, now_utc, state_name

    deck = Deck.load()
    pages = deck.select(tag, section, level)
    with open_store(db) as store:
        cards = store.cards()
    now = now_utc()
    titles = section_titles()
    table = Table(title=f"{len(pages)} questions", title_justify="left")
    for column in ("Id", "Section", "Level", "Title", "State", "Due"):
        table.add_column(column, overflow="fold")
    for page in pages:
        card = cards.get(page.id)
        due = "—" if card is None else format_due(card.due, now)
        table.add_row(page.id, titles.get(page.section, page.section), str(page.level), page.title, state_name(card), due)
    console().print(table)


@app.command()
@handled
def show(page_id: Annotated[str, typer.Argument(metavar="ID", help="The question's id (see qed list).")]) -> None:
    """A question page in the terminal: question, Chinese title, short answer, explanation, claims."""
    from rich.markdown import Markdown
    from rich.markup import escape

    from qed.claims import read_claims
    from qed.deck import page_label, terminal_markdown
    from qed.quiz import print_claims

    deck = Deck.load()
    page = deck.get(page_id)
    out = console()
    out.rule(f"[dim]{page.id} · {page_label(page)} · {', '.join(page.sources)}[/dim]")
    out.print(f"[bold]{escape(page.question)}[/bold]")
    for line in page.zh:
        out.print(f"[dim]{escape(line)}[/dim]")
    for name in ("Short answer", "Explanation"):
        out.print(f"\n[bold underline]{name}[/bold underline]")
        out.print(Markdown(terminal_markdown(page.sections.get(name, ""))))
    for module in deck.module_paths(page):
        claims = read_claims(module)
        out.print(f"\n[bold underline]Claims[/bold underline] ({len(claims)}, {module.relative_to(deck.root)}; run them: qed verify {page.id})")
        print_claims(out, claims)
    out.print(f"\n{deck.url(page)}", soft_wrap=True)


@app.command()
@handled
def verify(
    ids: Annotated[Optional[list[str]], typer.Argument(metavar="[ID]...", help="Question ids (see qed list).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every question with a proof.")] = False,
) -> None:
    """Run the proofs of these questions through pytest and print each claim with its result."""
    from qed.proofs import run_proofs
    from qed.quiz import print_outcomes

    deck = Deck.load()
    if all_ and ids:
        raise UsageError("give question ids or --all, not both")
    if not all_ and not ids:
        raise UsageError("give one or more question ids (see qed list), or --all")
    pages = deck.pages if all_ else [deck.get(page_id) for page_id in ids]
    modules = [module for page in pages for module in deck.module_paths(page)]
    if not modules:
        raise UsageError("these questions have no proof module")
    out = console()
    with out.status(f"running {len(modules)} proof module{'s' * (len(modules) != 1)} with pytest..."):
        outcomes, output = run_proofs(deck.root, modules)
    for module in modules:
        out.print(f"[bold]{module.relative_to(deck.root)}[/bold]")
        print_outcomes(out, [outcome for outcome in outcomes if outcome.module == module])
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed:
        out.print(f"[red]{failed} of {len(outcomes)} claims did not pass.[/red] pytest said:")
        out.print(output[-2000:], markup=False)
        raise typer.Exit(1)


@export_app.command("anki")
@handled
def export_anki(
    file: Annotated[Path, typer.Argument(metavar="FILE.apkg", help="Where to write the deck.")],
) -> None:
    """Write an Anki deck: one note per question; re-importing updates notes instead of duplicating them."""
    from qed.anki import export

    if file.suffix != ".apkg":
        raise UsageError(f"{file}: an Anki package must end in .apkg")
    if file.is_dir():
        raise UsageError(f"{file}: is a directory")
    count = export(Deck.load(), file)
    console().print(f"Wrote {count} notes to {file}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
