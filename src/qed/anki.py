"""``qed export anki``: an Anki deck (``.apkg``, written by genanki) with one note per question page.

The deck id, the note type id and every note's GUID derive from stable strings (the page id), so
importing a newer export updates the notes already in Anki instead of adding duplicates. Math is
kept as TeX between ``\\( \\)`` and ``\\[ \\]``, which Anki renders itself.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

from qed.deck import Deck, anki_math

DECK_NAME = "QED: deep-learning interview questions"
FIELDS = ["Id", "Question", "Chinese", "ShortAnswer", "Address", "Sources"]
CSS = """.card { font-family: sans-serif; font-size: 18px; text-align: left; max-width: 40em; margin: auto; }
.zh { color: #666; margin-top: .5em; }
.meta { color: #888; font-size: 13px; margin-top: 1em; }"""
FRONT = '<div class="question">{{Question}}</div>{{#Chinese}}<div class="zh">{{Chinese}}</div>{{/Chinese}}'
BACK = (
    '{{FrontSide}}<hr id="answer">{{ShortAnswer}}'
    '<div class="meta"><a href="{{Address}}">{{Address}}</a> · {{Sources}}</div>'
)


def stable_id(name: str) -> int:
    """An id in genanki's recommended range [2**30, 2**31), from SHA-256 of ``name``."""
    value = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big")
    return (1 << 30) + value % (1 << 30)


DECK_ID = stable_id("qed-deck")
MODEL_ID = stable_id("qed-model-v1")


def note_guid(page_id: str) -> str:
    import genanki

    return genanki.guid_for("qed", page_id)


def answer_html(markdown_text: str) -> str:
    import markdown

    text, maths = anki_math(markdown_text)
    rendered = markdown.markdown(text, extensions=["tables"])
    for index, tex in enumerate(maths):
        rendered = rendered.replace(f"QEDMATH{index}X", html.escape(tex, quote=False))
    return rendered


def export(deck: Deck, path: Path) -> int:
    """Write the deck to ``path``; return the number of notes."""
    import genanki

    model = genanki.Model(
        MODEL_ID,
        "QED question",
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Question → short answer", "qfmt": FRONT, "afmt": BACK}],
        css=CSS,
        sort_field_index=1,
    )
    anki_deck = genanki.Deck(DECK_ID, DECK_NAME)
    for page in deck.pages:
        fields = [
            page.id,
            html.escape(page.question),
            "<br>".join(html.escape(line) for line in page.zh),
            answer_html(page.short_answer),
            deck.url(page),
            ", ".join(page.sources),
        ]
        tags = list(dict.fromkeys([page.section, *page.tags, f"level-{page.level}"]))
        anki_deck.add_note(genanki.Note(model=model, fields=fields, tags=tags, guid=note_guid(page.id)))
    path.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(anki_deck).write_to_file(str(path))
    return len(deck.pages)
