"""The Dialogstöd app in a process of its own, driven headless through Textual's Pilot by lines on
stdin – for tests that need the real app next to other processes on one database.

    python tests/app_driver.py            (DIALOGSTOD_DB / DIALOGSTOD_DATA_DIR name the files)

Commands, one per line; each is answered with one line on stdout:

    demo                  press d on the start screen (the in-app import of the demo data)
    start FLOW CLINIC     start a dialogue (as the app's "Ny dialog" does) and show it
    open ID               open a dialogue from the start screen's list
    answer TEXT           type TEXT in the answer box and press Enter
    note TEXT             save a note (as the note modal does)
    skip                  skip the question (Ctrl+S)
    pid                   this process's id
    quit                  close the app (Ctrl+Q)

``ok …`` means done and stored: ``ok answer SEQ`` names the event that holds the text (it is
on disk: the app commits before the next prompt shows). ``fail …`` says why not.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def stored_seq(dialogue, kinds: tuple[str, ...], text: str) -> int | None:
    for e in reversed(dialogue.events):
        if e.kind in kinds and e.text == text:
            return e.seq
    return None


async def main() -> None:
    from assistant import engine as E
    from assistant.session import Dialogue
    from assistant.tui.app import DialogstodApp
    from assistant.tui.dialogue import DialogueScreen
    from assistant.tui.widgets import AnswerBox

    app = DialogstodApp()
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        await settle(pilot)
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            name, _, arg = line.rstrip("\n").partition(" ")
            if name == "pid":
                say(f"ok pid {os.getpid()}")
            elif name == "demo":
                await pilot.press("d")
                await settle(pilot)
                say("ok demo")
            elif name == "start":
                flow, _, clinic = arg.partition(" ")
                d = await asyncio.to_thread(
                    Dialogue.start, app.store, flow, E.StartOptions(clinic=clinic), clock=app.clock
                )
                app.open_dialogue(d.id, d)
                await settle(pilot)
                say(f"ok start {d.id}" if isinstance(app.screen, DialogueScreen) else "fail start")
            elif name == "open":
                app.open_dialogue(arg)
                await settle(pilot)
                say("ok open" if isinstance(app.screen, DialogueScreen) else "fail open")
            elif name == "answer":
                screen = app.screen
                if not isinstance(screen, DialogueScreen):
                    say("fail answer no dialogue on screen")
                    continue
                box = screen.query_one("#answer", AnswerBox)
                box.text = arg
                box.focus()
                await pilot.press("enter")
                await settle(pilot)
                seq = stored_seq(screen.d, ("answered", "noted"), arg)
                say(f"ok answer {seq}" if seq is not None else "fail answer not stored")
            elif name == "note":
                screen = app.screen
                if not isinstance(screen, DialogueScreen):
                    say("fail note no dialogue on screen")
                    continue
                error = screen._save_note(arg)
                await settle(pilot)
                seq = stored_seq(screen.d, ("noted",), arg)
                say(f"ok note {seq}" if seq is not None else f"fail note {error}")
            elif name == "skip":
                await pilot.press("ctrl+s")
                await settle(pilot)
                say("ok skip")
            elif name == "quit":
                await pilot.press("ctrl+q")
                say("ok quit")
                break
            else:
                say(f"fail unknown command {name}")


if __name__ == "__main__":
    asyncio.run(main())
