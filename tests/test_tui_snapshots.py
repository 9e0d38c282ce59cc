"""Snapshots of every screen at 120×40 (and the busiest ones at 80×24).

Deterministic: a fixed clock, fixed dialogue ids (uuid4 patched), UTC as local time, a database
path relative to the test's directory, and workers finished before the picture is taken.
Update with `uv run pytest tests/test_tui_snapshots.py --snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from tests.test_tui import clinic_info_now, settle, tel_rows

WIDE = (120, 40)
NARROW = (80, 24)
MIDDLE = (90, 30)  # a width where Textual's own footer drew its keys over each other


class FixedClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: float) -> None:
        from datetime import timedelta

        self.now += timedelta(minutes=minutes)


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A store in the test directory (shown as 'dialogstod.db'), UTC, fixed ids and clock."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)
    counter = iter(range(1, 1000))
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(f"{next(counter) * 0x1111111:08x}-0000-4000-8000-000000000000"))
    from assistant.database import open_store

    store = open_store("dialogstod.db")
    clock = FixedClock()
    yield store, clock
    store.close()
    monkeypatch.delenv("TZ")
    time.tzset()


def fill(store, clock) -> None:
    """Demo-like data: Fysio Norr with a flag, one dialogue in progress, one prepared, one finished."""
    from assistant import engine as E
    from assistant.session import Dialogue

    store.replace_indicator_values(tel_rows("Fysio Norr"), source="test")
    old = Dialogue.start(
        store, "fysioterapi-2023", E.StartOptions(clinic="Fysio Norr", participants=(E.Participant("Eva Ek", "Verksamhetschef"),)),
        clock=clock,
    )
    clock.tick(2)
    old.do(E.Answer("Tre fysioterapeuter och en rehabassistent."))
    old.do(E.Jump("sammanfattning"))
    old.do(E.Skip())
    old.do(E.Answer("Telefontiderna och rehabplanerna."))  # sammanfattning.jobba_vidare
    old.do(E.Jump("aterkoppling"))
    for _ in range(3):
        old.do(E.Skip())
    clock.tick(5)
    old.do(E.Answer("Gärna P3 Patienter och telefontiden nästa gång."))  # aterkoppling.kommande_mote
    old.do(E.AddAction("Se över telefontiderna", "Eva Ek", "2026-06-30"))
    old.do(E.Finish())
    clock.now = datetime(2026, 9, 14, 9, 0, tzinfo=UTC)
    Dialogue.start(store, "vardcentral", E.StartOptions(clinic="Vårdcentralen Exempel", prepared=True), clock=clock)
    d = Dialogue.start(
        store,
        "fysioterapi-2023",
        E.StartOptions(
            clinic="Fysio Norr",
            participants=(E.Participant("Eva Ek", "Verksamhetschef – presentera data"), E.Participant("Ulla Lind", "Utvecklingsledare")),
            focus={"mottagningen": ("p3",)},
        ),
        clock=clock,
    )
    clock.tick(4)
    d.do(E.Answer("Mest äldre med artros och ryggbesvär; fler unga med idrottsskador än förr."))
    clock.tick(6)
    d.do(E.Answer("Resultaten är bra, men [b]delaktighet[/b] sjönk något."))
    d.do(E.AddNote("Jämför med regionens snitt inför nästa möte."))
    clock.tick(3)
    d.do(E.Park())
    clock.tick(1)


def make_app(store, clock):
    from assistant.tui.app import DialogstodApp

    return DialogstodApp(store=store, clock=clock)


def still_cursor(pilot) -> None:
    """No blinking cursor in the answer box: the same picture however long loading took."""
    from assistant.tui.widgets import AnswerBox

    pilot.app.screen.query_one(AnswerBox).cursor_blink = False


async def ready(pilot) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


async def ny_dialog_fysio_norr(pilot) -> None:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*"Fysio", "space", *"Norr")
    await clinic_info_now(pilot)  # (instead of waiting for the typing debounce)


def test_start_empty(snap_compare, world):
    store, clock = world
    assert snap_compare(make_app(store, clock), terminal_size=WIDE, run_before=ready)


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["120x40", "80x24"])
def test_start_with_dialogues(snap_compare, world, size):
    store, clock = world
    fill(store, clock)
    assert snap_compare(make_app(store, clock), terminal_size=size, run_before=ready)


def test_new_dialogue(snap_compare, world):
    store, clock = world
    fill(store, clock)

    async def run_before(pilot):
        await ny_dialog_fysio_norr(pilot)
        pilot.app.screen.query_one("#clinic").cursor_blink = False  # no blinking cursor: the same picture every time
        await ready(pilot)

    assert snap_compare(make_app(store, clock), terminal_size=WIDE, run_before=run_before)


@pytest.mark.parametrize("size", [WIDE, MIDDLE, NARROW], ids=["120x40", "90x30", "80x24"])
def test_dialogue(snap_compare, world, size):
    store, clock = world
    fill(store, clock)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("1")
        await ready(pilot)  # includes reading the word list for the suggestions (about a second)
        still_cursor(pilot)
        await pilot.pause()

    assert snap_compare(make_app(store, clock), terminal_size=size, run_before=run_before)


def test_archive(snap_compare, world):
    store, clock = world
    fill(store, clock)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("t")
        await ready(pilot)

    assert snap_compare(make_app(store, clock), terminal_size=WIDE, run_before=run_before)


def test_transcript(snap_compare, world):
    store, clock = world
    fill(store, clock)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # the oldest: the finished dialogue
        await ready(pilot)

    assert snap_compare(make_app(store, clock), terminal_size=WIDE, run_before=run_before)


def test_help(snap_compare, world):
    store, clock = world
    fill(store, clock)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        still_cursor(pilot)
        await pilot.press("f1")
        await ready(pilot)

    assert snap_compare(make_app(store, clock), terminal_size=WIDE, run_before=run_before)


def no_blink(pilot) -> None:
    """No blinking cursor anywhere on the top screen (a dialog's own fields too)."""
    from textual.widgets import Input, TextArea

    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False


# Every dialog at 80×24 (issue #15): the title, the body (scrolling when it must) and the buttons all
# on screen. In the dialogue: the key that opens it.
IN_DIALOGUE = {
    "ny-atgard": "ctrl+a",
    "anteckning": "ctrl+n",
    "ga-till": "ctrl+g",
    "forslag": "ctrl+f",
    "parkerade": "ctrl+r",
    "avsluta": "f9",
    "forra-dialogens-atgarder": "f5",
    "hjalp": "f1",
}


@pytest.mark.parametrize("key", list(IN_DIALOGUE.values()), ids=list(IN_DIALOGUE))
def test_dialogue_dialogs_at_80x24(snap_compare, world, key):
    store, clock = world
    fill(store, clock)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("1")
        await ready(pilot)
        still_cursor(pilot)
        await pilot.press(key)
        await ready(pilot)
        no_blink(pilot)
        await pilot.pause()

    assert snap_compare(make_app(store, clock), terminal_size=NARROW, run_before=run_before)


# In a finished dialogue's document: Exportera, Rätta svar, Granskning.
IN_TRANSCRIPT = {"exportera": "e", "ratta-svar": "r", "granskning": "g"}


@pytest.mark.parametrize("key", list(IN_TRANSCRIPT.values()), ids=list(IN_TRANSCRIPT))
def test_transcript_dialogs_at_80x24(snap_compare, world, key, monkeypatch):
    monkeypatch.setenv("DIALOGSTOD_DATA_DIR", "data")  # Exportera shows its folder: the same in every run
    store, clock = world
    fill(store, clock)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # the finished dialogue
        await settle(pilot)
        await pilot.press(key)
        await ready(pilot)
        no_blink(pilot)
        await pilot.pause()

    assert snap_compare(make_app(store, clock), terminal_size=NARROW, run_before=run_before)


@pytest.mark.parametrize("keys", [(), ("ctrl+s",)], ids=["form", "already-in-progress"])
def test_new_dialogue_at_80x24(snap_compare, world, keys):
    """Ny dialog on a small screen: the form with the clinic's data below it, and Starta nu for
    Fysio Norr, which has a dialogue in progress: asked first."""
    store, clock = world
    fill(store, clock)

    async def run_before(pilot):
        await ny_dialog_fysio_norr(pilot)
        await pilot.press(*keys)
        no_blink(pilot)
        await ready(pilot)

    assert snap_compare(make_app(store, clock), terminal_size=NARROW, run_before=run_before)
