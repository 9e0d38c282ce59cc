"""The app in a real meeting (issue #15): one Pilot test (or a few) per numbered point, with the
mouse where the point is about the mouse. Workers are waited for explicitly (``settle``), never slept."""

from __future__ import annotations

import threading

import pytest

from assistant import engine as E
from tests.test_tui import (
    SIZE,
    app_for,
    chat_texts,
    clinic_info_now,
    finished_dialogue,
    kinds,
    open_first_dialogue,
    settle,
    start_dialogue,
    tel_rows,
    text_offset,
    type_text,
)

NARROW = (80, 24)


def title(widget) -> str:
    from textual.content import Content

    return Content.from_markup(widget.border_title or "").plain


def answer_box(app):
    from assistant.tui.widgets import AnswerBox

    return app.screen.query_one(AnswerBox)


async def ny_dialog(pilot, clinic: str) -> None:
    """Ny dialog with the mini flow and ``clinic`` typed (the list of names closed), looked up."""
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    pilot.app.screen.query_one("#flow").value = "mini"
    await type_text(pilot, clinic)
    await pilot.press("escape")
    await clinic_info_now(pilot)


# ---------------------------------------------------------------- 1. typing after a click


@pytest.mark.parametrize("where", ["#chat", "#areas-panel", "#data-panel", "#topbar"])
async def test_1_typing_after_a_click_anywhere_reaches_the_answer_box(store, clock, mini, where):
    store.replace_indicator_values(tel_rows(), source="test")
    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await pilot.click(where, offset=(3, 2))
        await pilot.pause()
        await type_text(pilot, "Tre fysioterapeuter")
        assert answer_box(app).text == "Tre fysioterapeuter"
        assert app.focused is answer_box(app)  # and it shows: the focused frame


async def test_1_a_key_typed_on_a_focused_button_goes_to_the_answer_box(store, clock, mini):
    from textual.widgets import Button

    d = start_dialogue(store, clock)
    for i in range(200):  # a long conversation: "Visa tidigare" is a button in it
        d.do(E.AddNote(f"Anteckning {i}"))
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        older = app.screen.query_one("#older", Button)
        older.focus()
        await pilot.pause()
        await type_text(pilot, "Svar")
        assert answer_box(app).text == "Svar"


async def test_1_the_answer_box_shows_whether_it_has_the_focus(store, clock, mini):
    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        box = answer_box(app)
        focused = box.styles.border_top
        app.set_focus(None)
        await pilot.pause()
        assert box.styles.border_top != focused


# ---------------------------------------------------------------- 2. workers after the screen changed


async def test_2_ctrl_s_while_ny_dialog_still_looks_the_clinic_up(store, clock, mini, monkeypatch):
    """The lookup finishes after the dialogue screen has replaced Ny dialog: nothing fails, and the
    new dialogue is never its own "förra dialogen"."""
    from assistant.tui import newdialogue
    from assistant.tui.dialogue import DialogueScreen

    release = threading.Event()
    looked_up = threading.Event()
    original = newdialogue.previous_dialogue

    def slow(*args, **kwargs):
        looked_up.set()
        release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(newdialogue, "previous_dialogue", slow)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#flow").value = "mini"
        await type_text(pilot, "Fysio Ny")
        app.screen._clinic_timer.stop()
        app.screen._clinic_info_now()  # the lookup starts …
        while not looked_up.is_set():
            await pilot.pause()
        await pilot.press("ctrl+s")  # … and Starta nu comes before it is done
        while not isinstance(app.screen, DialogueScreen):
            await pilot.pause()
        release.set()
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, DialogueScreen)
        assert app.screen.previous is None
        assert "previous" not in [k for k, _ in chat_texts(app)]


async def test_2_a_lookup_finishing_after_ny_dialog_has_closed_does_nothing(store, clock, mini):
    """The clinic lookup's answer arrives from its thread after Ny dialog is gone (Esc): no NoMatches."""
    from assistant.tui.newdialogue import ClinicInfo

    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await pilot.press("escape")
        await settle(pilot)
        assert form not in app.screen_stack
        errors: list[Exception] = []

        def late() -> None:
            try:
                app.call_on_screen(form, form.show_clinic_info, ClinicInfo("Fysio Test"))
            except Exception as exc:  # what call_from_thread hands back to the worker
                errors.append(exc)

        worker = threading.Thread(target=late)
        worker.start()
        while worker.is_alive():
            await pilot.pause()
        assert errors == [] and app.is_running


# ---------------------------------------------------------------- 3. export: the highlighted format, never overwrite unasked


async def test_3_the_highlighted_format_is_exported_and_an_existing_file_is_kept(store, clock, mini, tmp_path, monkeypatch):
    from assistant import locations
    from assistant.tui.modals import ChoiceModal, ExportModal

    monkeypatch.chdir(tmp_path)  # the directory the app happened to start in: never the default
    d = finished_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show_transcript(d.id)
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportModal) and app.screen.folder == str(locations.exports_dir())
        await pilot.press("down")  # to "Word (docx)"
        await pilot.press("tab")  # on to the buttons …
        await pilot.click("#export")  # … and Exportera
        await settle(pilot)
        first = sorted(locations.exports_dir().glob("*.docx"))
        assert len(first) == 1 and not list(locations.exports_dir().glob("*.html"))
        before = first[0].read_bytes()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("down", "enter")  # docx again: the file is there
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        assert app.focused.id == "choice-0"  # "Spara som ny fil", the safe choice
        await pilot.press("enter")
        await settle(pilot)
    files = sorted(p.name for p in locations.exports_dir().glob("*.docx"))
    assert len(files) == 2 and any(name.endswith("-2.docx") for name in files)
    assert first[0].read_bytes() == before
    assert not list(tmp_path.glob("*.docx"))


async def test_3_overwriting_is_a_choice(store, clock, mini):
    from assistant import locations

    d = finished_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show_transcript(d.id)
        await settle(pilot)
        for _ in range(2):
            await pilot.press("e")
            await pilot.pause()
            await pilot.press("down", "down", "enter")  # Markdown
            await settle(pilot)
        await pilot.click("#choice-1")  # Skriv över
        await settle(pilot)
    assert len(list(locations.exports_dir().glob("*.md"))) == 1


async def test_3_another_folder_is_picked_in_a_folder_picker(store, clock, mini, tmp_path):
    from assistant.tui.modals import ExportModal
    from assistant.tui.pickers import FolderPicker

    d = finished_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show_transcript(d.id)
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        await pilot.click("#pick-folder")
        await settle(pilot)
        assert isinstance(app.screen, FolderPicker)
        app.screen.dismiss(tmp_path)
        await settle(pilot)
        assert isinstance(app.screen, ExportModal) and app.screen.folder == str(tmp_path)
        await pilot.click("#export")
        await settle(pilot)
    assert len(list(tmp_path.glob("*.html"))) == 1


# ---------------------------------------------------------------- 4. Gå till keeps the plan


async def test_4_after_ga_till_the_planned_order_goes_on(store, clock, mini):
    from assistant.tui.modals import ConfirmModal, PickerModal

    d = start_dialogue(store, clock, focus={"mottagningen": ("p3", "p4")})
    assert d.state.current.section == "p3"
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await type_text(pilot, "Fall i trappan")
        await pilot.press("enter")  # P3 goes on …
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, PickerModal)
        picker = app.screen.query_one("#picker")
        x, y = text_offset(picker, "P1 Personal")
        await pilot.click(picker, offset=(x, y))  # … a jump to P1, by mouse
        await settle(pilot)
        screen = app.screen
        assert screen.d.state.current.section == "p1"
        await pilot.press("ctrl+s", "ctrl+s")  # P1 done
        await pilot.pause()
        assert screen.d.state.current.section == "p3"  # back to what is left of P3, then P4 as planned
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Ej berört ännu: P1 Personal, P2 Syfte, P4 Mönster" in app.screen.detail


# ---------------------------------------------------------------- 5. every dialog fits 80×24


def on_screen(app, widget) -> bool:
    region = widget.region
    return region.height > 0 and app.screen.region.contains_region(region)


async def test_5_the_action_dialog_fits_and_tab_reaches_visible_buttons(store, clock, mini):
    from textual.widgets import Button

    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=NARROW) as pilot:
        await open_first_dialogue(pilot)
        await pilot.press("ctrl+a")
        await pilot.pause()
        for _ in range(6):
            await pilot.press("tab")
            await pilot.pause()
            if isinstance(app.focused, Button):
                assert on_screen(app, app.focused), app.focused
        for button in app.screen.query(".buttons Button"):
            assert on_screen(app, button), button


async def test_5_the_export_dialog_fits(store, clock, mini):
    d = finished_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        app.show_transcript(d.id)
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        for button in app.screen.query("Button"):
            assert on_screen(app, button), button


async def test_5_a_choice_with_long_answers_fits(store, clock, mini):
    """"Menade du …?" at 80×24: its three buttons all on screen, whichever way they stand."""

    from assistant.tui.modals import ChoiceModal

    store.replace_indicator_values(tel_rows("Fysio Söder (påhittad)"), source="test")
    app = app_for(store, clock)
    async with app.run_test(size=NARROW) as pilot:
        await ny_dialog(pilot, "Fysio Söder")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceModal)
        buttons = list(app.screen.query(".buttons Button"))
        assert len(buttons) == 3 and all(on_screen(app, b) for b in buttons), [b.region for b in buttons]
        assert all(b.region.width >= len(str(b.label)) for b in buttons)  # labels whole
        await pilot.click("#cancel")
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceModal)


async def test_5_ny_dialog_shows_the_data_and_the_previous_dialogue_below_the_form(store, clock, mini):
    from tests.test_tui import held_dialogue

    store.replace_indicator_values(tel_rows(), source="test")
    held_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#flow").value = "mini"
        await type_text(pilot, "Fysio Test")
        await clinic_info_now(pilot)
        side = app.screen.query_one("#new-side")
        assert on_screen(app, side) and side.region.width == 80
        assert "Telefontillgänglighet" in app.screen.query_one("#new-flags").render().plain


# ---------------------------------------------------------------- 6. keys


async def test_6_the_key_bar_shows_what_applies_and_f9_asks_safely(store, clock, mini):
    from assistant.tui.modals import ConfirmModal
    from assistant.tui.widgets import KeyBar

    store.replace_indicator_values(tel_rows(), source="test")
    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=NARROW) as pilot:
        await open_first_dialogue(pilot)
        bar = app.screen.query_one(KeyBar)
        text = bar.render().plain
        assert "f9 Avsluta" in text and "f3 Paneler" in text  # narrow: the panels are hidden
        assert "Parkerade" not in text  # nothing parked
        await pilot.press("ctrl+k")
        await pilot.pause()
        app.screen.refresh_panels()
        await pilot.pause()
        await pilot.resize_terminal(140, 40)
        await settle(pilot)
        text = app.screen.query_one(KeyBar).render().plain
        assert "^r Parkerade" in text and "^f Förslag" in text and "f3 Paneler" not in text
        bar = app.screen.query_one(KeyBar)
        x, y = text_offset(bar, "f9 Avsluta")
        await pilot.click(bar, offset=(x + 1, y))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and app.focused.id == "no"
        await pilot.press("enter")
        await settle(pilot)
    assert "finished" not in kinds(store, d.id)


async def test_6_typing_on_in_the_f9_confirmation_does_not_end_the_meeting(store, clock, mini):
    """F9 pressed by mistake while typing: "jag tycker" must not end the meeting with its "j"."""
    from assistant.tui.modals import ConfirmModal

    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press(*"jag tycker")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)  # still asking
        await pilot.press("escape")
        await settle(pilot)
    assert "finished" not in kinds(store, d.id)


async def test_6_tab_in_the_f9_confirmation_goes_between_its_buttons(store, clock, mini):
    """A body that fits (the untouched areas) is no invisible Tab stop between the buttons."""
    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await pilot.press("f9")
        await pilot.pause()
        seen = []
        for _ in range(4):
            await pilot.press("tab")
            seen.append(app.focused.id)
        assert seen == ["yes", "no", "yes", "no"]
        await pilot.press("tab", "enter")  # "Avsluta dialogen", chosen on purpose
        await settle(pilot)
    assert "finished" in kinds(store, store.list_dialogues()[0]["id"])


async def test_6_the_command_palette_and_a_select_list_speak_swedish(store, clock, mini, monkeypatch):
    from textual.widgets import Input

    from assistant.tui.palette import NO_MATCHES, PLACEHOLDER, SwedishPalette
    from assistant.tui.widgets import KeyBar

    monkeypatch.setattr(SwedishPalette, "_NO_MATCHES_COUNTDOWN", 0.01)  # (its pause before "no matches")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert app.screen.query_one(Input).placeholder == PLACEHOLDER
        await type_text(pilot, "qxzqxz")
        commands = app.screen.query_one("CommandList")
        while SwedishPalette._NO_MATCHES not in commands._id_to_option:
            await pilot.pause()
        assert NO_MATCHES in str(commands.get_option(SwedishPalette._NO_MATCHES).prompt.renderable)
        await pilot.press("escape")
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#flow").focus()
        await pilot.press("enter")  # the list opens: its Esc key is shown in Swedish
        await pilot.pause()
        text = app.screen.query_one(KeyBar).render().plain
        assert "Dismiss" not in text and "esc Stäng listan" in text


async def test_6_the_empty_palette_offers_commands_before_declining_suggestions(store, clock, mini):
    """The palette lists its entries by name: "Avböj förslag 1…7" came before every real command.
    Declining is found by searching for it."""
    store.replace_indicator_values(tel_rows(), source="test")
    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        assert app.screen.listed  # there are suggestions to take or decline
        await pilot.press("ctrl+p")
        await settle(pilot)
        commands = app.screen.query_one("CommandList")
        for _ in range(200):
            if commands.option_count:
                break
            await pilot.pause()
        shown = [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]
        assert shown and not any("Avböj förslag" in p for p in shown), shown[:5]
        await type_text(pilot, "avböj förslag 1")
        for _ in range(200):  # the search runs in a worker
            found = [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]
            if any("Avböj förslag 1" in p for p in found):
                break
            await pilot.pause()
        assert any("Avböj förslag 1" in p for p in found), found


# ---------------------------------------------------------------- 7. the conversation reads right


async def test_7_an_answer_given_after_notes_stands_under_its_question(store, clock, mini):
    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await pilot.press("ctrl+n")
        await type_text(pilot, "Chefen är ny")
        await pilot.press("enter")
        await pilot.press("ctrl+a")
        await type_text(pilot, "Boka genomgång")
        await pilot.press("enter")
        await settle(pilot)
        assert title(answer_box(app)) == "Svar: Vilka arbetar här?"  # the question stays in view
        await type_text(pilot, "Tre fysioterapeuter")
        await pilot.press("enter")
        await settle(pilot)
        order = [(k, t.split("\n")[-1]) for k, t in chat_texts(app) if k in ("prompt", "answer", "note", "action")]
        assert [k for k, _ in order] == ["prompt", "answer", "note", "action", "prompt"]
        assert order[1][1] == "Tre fysioterapeuter"
        assert title(answer_box(app)) == "Svar: Hur är arbetsmiljön?"


def test_7_reading_order_after_a_resume(store, clock, mini):
    from assistant.session import Dialogue
    from assistant.tui import chatlog

    d = start_dialogue(store, clock)
    d.do(E.AddNote("Chefen är ny"))
    d.do(E.Answer("Tre fysioterapeuter"))
    msgs = chatlog.history(Dialogue.resume(store, d.id), fresh=False).recent
    assert [m.kind for m in msgs if m.kind != "system"][:5] == ["welcome", "prompt", "answer", "note", "prompt"]


async def test_7_the_transcript_wraps_with_its_indent_and_opens_a_search_hit_at_the_hit(store, clock, mini):
    from assistant.tui.archive import TranscriptScreen

    long = "Vi hade en avvikelse i våras som " + "ledde till många samtal om rutiner " * 6
    d = start_dialogue(store, clock)
    d.do(E.Answer(long))
    for i in range(30):
        d.do(E.AddNote(f"Fyllnad {i}"))
    d.do(E.Jump("P4"))
    d.do(E.Answer("Telefontiden räcker inte till, kön är lång"))
    d.do(E.Finish())
    app = app_for(store, clock)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("ctrl+f")
        await type_text(pilot, "telefontiden")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TranscriptScreen)
        area = app.screen.query_one("#transcript")
        row = area.selection.start[0]
        assert "Telefontiden räcker inte" in area.document.get_line(row)
        assert area.scroll_y > 0 and area.scroll_y <= row  # opened where the hit is, not at the top
        lines = area.text.split("\n")
        first = next(i for i, line in enumerate(lines) if "Vi hade en avvikelse" in line)
        assert lines[first].startswith("    > ") and lines[first + 1].startswith("    > ")  # wrapped, indented
        assert all(len(line) <= 80 for line in lines)


# ---------------------------------------------------------------- 8. Data som diskuterades


async def test_8_the_topic_discussed_is_in_the_documentation(store, clock, mini):
    """A note made while the telephone question was on screen counts: the app's document shows it."""
    store.replace_indicator_values(tel_rows(), source="test")
    d = start_dialogue(store, clock)
    d.record_flags()
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await pilot.press("ctrl+g")
        await pilot.press("4")  # P4: "Telefontillgänglighet?"
        await settle(pilot)
        await pilot.press("ctrl+n")
        await type_text(pilot, "Många ringer flera gånger")
        await pilot.press("enter")
        await pilot.press("f9")
        await pilot.pause()
        await pilot.click("#yes")
        await settle(pilot)
        await pilot.press("escape")  # no export now
        await settle(pilot)
        text = app.screen.query_one("#transcript").text
    assert "Data som diskuterades:" in text
    assert "Telefontillgänglighet" in text.split("Data som diskuterades:", 1)[1].split("──", 1)[0]


# ---------------------------------------------------------------- 9. help while typing


async def test_9_clinic_names_are_offered_as_you_type(store, clock, mini):
    from assistant.tui.newdialogue import ClinicNames

    store.replace_indicator_values(tel_rows("Fysio Norr (påhittad)"), source="test")
    finished_dialogue(store, clock, clinic="Fysioterapeuterna Syd")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "fysio")
        await pilot.pause()
        names = app.screen.query_one(ClinicNames)
        offered = [names.option_list.get_option_at_index(i).prompt.plain for i in range(names.option_list.option_count)]
        assert {"Fysio Norr (påhittad)", "Fysioterapeuterna Syd"} <= set(offered)  # data and earlier dialogues
        await pilot.click(names.option_list, offset=(2, offered.index("Fysio Norr (påhittad)")))
        await pilot.pause()
        assert app.screen.query_one("#clinic").value == "Fysio Norr (påhittad)"
        await settle(pilot)
        assert app.screen.info.clinic == "Fysio Norr (påhittad)"  # the chosen clinic's data, not the typed one's
        assert "Telefontillgänglighet" in app.screen.query_one("#new-flags").render().plain


async def test_9_fysio_norr_finds_the_demo_clinic(store, clock, mini):
    from assistant.tui.dialogue import DialogueScreen
    from assistant.tui.modals import ChoiceModal

    store.replace_indicator_values(tel_rows("Fysio Norr (påhittad)"), source="test")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await ny_dialog(pilot, "Fysio Norr")
        flags = app.screen.query_one("#new-flags").render().plain
        assert "Menade du ”Fysio Norr (påhittad)”?" in flags and "Telefontillgänglighet" in flags
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal) and app.focused.id == "choice-0"
        await pilot.press("enter")  # "Använd ”Fysio Norr (påhittad)”"
        await settle(pilot)
        assert isinstance(app.screen, DialogueScreen)
        assert app.screen.d.clinic == "Fysio Norr (påhittad)"


async def test_9_importing_data_offers_a_file_picker(store, clock, tmp_path):
    from textual.widgets import Button, Select
    from textual_fspicker.parts import DirectoryNavigation

    from assistant.tui.pickers import ImportFilePicker
    from tests.conftest import FIXTURES

    source = FIXTURES / "data"
    app = app_for(store, clock)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.click("#import")
        await settle(pilot)
        assert isinstance(app.screen, ImportFilePicker)
        app.screen.query_one(DirectoryNavigation).location = source
        await settle(pilot)
        # at 80×24 the list shows the files and the type filter reads as a line, not a column of letters
        listing = app.screen.query_one(DirectoryNavigation)
        assert listing.region.height >= 8 and on_screen(app, listing)
        assert app.screen.query_one(Select).region.width >= 20
        assert on_screen(app, app.screen.query_one("#select", Button))
        good = source / "semikolon-bom.csv"
        await type_text(pilot, good.name)  # typed in the list: it goes to the name field
        await pilot.press("enter")
        await settle(pilot)
        assert any((n.title or "") == "Data importerad" for n in app._notifications)
    assert store.indicator_values()


def test_9_file_names_in_the_picker_are_text(tmp_path):
    from textual_fspicker.parts.directory_navigation import DirectoryEntry

    from assistant.tui.pickers import _safe_names

    _safe_names()
    hostile = tmp_path / "red\x1b[31mX[b].csv"
    hostile.write_text("x", encoding="utf-8")
    assert DirectoryEntry._name(hostile).plain.startswith("red␛[31mX[b].csv")


# ---------------------------------------------------------------- 10. a second dialogue


async def test_10_a_clinic_with_a_dialogue_in_progress_is_offered_it(store, clock, mini):
    from assistant.tui.dialogue import DialogueScreen
    from assistant.tui.modals import ChoiceModal

    d = start_dialogue(store, clock, clinic="Fysio Test")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await ny_dialog(pilot, "fysio test")
        assert "Det finns redan en pågående dialog" in app.screen.query_one("#open-warning").render().plain
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal) and app.focused.id == "choice-0"  # "Fortsätt den"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DialogueScreen) and app.screen.d.id == d.id
    assert len(store.list_dialogues()) == 1


async def test_10_a_new_one_anyway_when_asked_for(store, clock, mini):
    start_dialogue(store, clock, clinic="Fysio Test")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#flow").value = "mini"
        await type_text(pilot, "Fysio Test")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.click("#choice-1")  # "Starta en ny ändå"
        await settle(pilot)
    assert len(store.list_dialogues()) == 2


def test_10_the_line_mode_piped_stops_and_says_what_to_do(store, clock, mini):
    from tests.conftest import run_cli

    d = start_dialogue(store, clock, clinic="Fysio Test")
    code, out, err = run_cli("chat", "--flow", "mini", "--clinic", "fysio test", stdin="Svar\n")
    assert code == 2 and out == ""
    assert "Det finns redan en pågående dialog" in err and f"--resume {d.id[:8]}" in err and "--ny" in err
    assert len(store.list_dialogues()) == 1
    code, out, err = run_cli("chat", "--flow", "mini", "--clinic", "Fysio Test", "--ny", stdin="/avsluta\n")
    assert code == 0 and len(store.list_dialogues()) == 2


def test_10_the_line_mode_typed_offers_to_continue(store, clock, mini, monkeypatch):
    d = start_dialogue(store, clock, clinic="Fysio Test")
    d.do(E.Answer("Tre fysioterapeuter"))
    code, said = _typed_chat(monkeypatch, "\n/avsluta\n", "--flow", "mini", "--clinic", "Fysio Test")
    assert code == 0
    assert "Fortsätta den? [J/n" in said and "Fortsätter där dialogen slutade (1 svar hittills)." in said
    assert len(store.list_dialogues()) == 1


def _typed_chat(monkeypatch, typed: str, *argv: str) -> tuple[int, str]:
    """The line mode at a terminal: ``typed`` is what the person types."""
    import io
    import sys

    from assistant.cli import main

    class Typed(io.StringIO):
        def isatty(self):
            return True

    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", Typed(typed))
    monkeypatch.setattr(sys, "stdout", out)
    return main(["chat", *argv]), out.getvalue()


def test_10_the_line_mode_typed_asks_about_a_name_that_is_nearly_right(store, clock, mini, monkeypatch):
    start_dialogue(store, clock, clinic="Fysio Söder (påhittad)").do(E.Finish())
    code, said = _typed_chat(monkeypatch, "\n/avsluta\n", "--flow", "mini", "--clinic", "Fysio Söder")
    assert code == 0
    assert "Menade du ”Fysio Söder (påhittad)”? [J/n]" in said
    assert sorted(r["clinic"] for r in store.list_dialogues()) == ["Fysio Söder (påhittad)"] * 2
    code, said = _typed_chat(monkeypatch, "n\n/avsluta\n", "--flow", "mini", "--clinic", "Fysio Söder")
    assert code == 0 and "Menade du" in said
    assert "Fysio Söder" in [r["clinic"] for r in store.list_dialogues()]  # n: the name as typed


def test_10_the_line_mode_piped_stops_at_a_name_that_is_nearly_right(store, clock, mini):
    from tests.conftest import run_cli

    start_dialogue(store, clock, clinic="Fysio Söder (påhittad)").do(E.Finish())
    code, out, err = run_cli("chat", "--flow", "mini", "--clinic", "Fysio Söder", stdin="Svar\n/avsluta\n")
    assert code == 2 and out == ""
    assert "Ingen mottagning heter ”Fysio Söder”" in err and '--clinic "Fysio Söder (påhittad)"' in err and "--ny" in err
    assert len(store.list_dialogues()) == 1
    code, out, err = run_cli("chat", "--flow", "mini", "--clinic", "Fysio Söder", "--ny", stdin="/avsluta\n")
    assert code == 0 and "Fysio Söder" in [r["clinic"] for r in store.list_dialogues()]


# ---------------------------------------------------------------- 11. words in the app


async def test_11_the_app_says_it_the_glossary_way(store, clock, mini):
    d = start_dialogue(store, clock)
    d.do(E.Jump("konkret"))  # "Välj ett område …": one choice
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        prompt = [t for k, t in chat_texts(app) if k == "prompt"][-1]
        assert "Svara med siffran eller skriv ett eget svar." in prompt and "(flera" not in prompt
        assert "fråga 1 av 2" in prompt  # its place among the exercise's steps (Konkret exempel is counted apart)
        assert app.screen.query_one("#topbar #right").render().plain == "Mötestid 0 av 60 min"


async def test_11_importing_one_row_says_one_row_in_the_app(store, clock, tmp_path):
    from assistant.tui.start import import_indicator_file

    path = tmp_path / "en.csv"
    path.write_text("enhet;indikator;period;täljare;nämnare\nFysio X;telefontillganglighet;2025;80;100\n", encoding="utf-8")
    assert import_indicator_file(store, path).startswith("Importerade 1 rad (1 ny, 0 ändrade, 0 oförändrade)")


# ---------------------------------------------------------------- 12. paste


def test_12_a_paste_with_escape_sequences_arrives_whole_and_in_order():
    from textual import events

    from assistant.tui.paste import guarded_parser_class

    parser = guarded_parser_class()()
    data = "abc \x1b[200~före \x1b[31mRÖD\x1b[0m efter\x1b[201~ xyz \x1b[200~igen\x1b[201~"
    got = []
    for i in range(0, len(data), 7):  # in small reads: markers split across them
        got += list(parser.feed(data[i : i + 7]))
    pastes = [e.text for e in got if isinstance(e, events.Paste)]
    typed = "".join(e.character or "" for e in got if isinstance(e, events.Key))
    assert pastes == ["före ␛[31mRÖD␛[0m efter", "igen"]
    assert typed == "abc  xyz "


def test_12_the_drivers_parse_through_the_guard():
    import importlib

    from assistant.tui import paste

    for name in paste.DRIVER_MODULES:
        module = importlib.import_module(name)
        assert hasattr(module, "XTermParser"), name  # the drivers still make their parser by this name
    from textual.drivers.linux_driver import LinuxDriver

    paste.install(LinuxDriver)
    assert getattr(importlib.import_module("textual.drivers.linux_driver").XTermParser, "_dialogstod_guarded", False)


async def test_12_a_paste_goes_in_at_the_cursor(store, clock, mini):
    from textual import events

    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await type_text(pilot, "abc xyz")
        await pilot.press(*["left"] * 3)
        app.post_message(events.Paste("före ␛[31mRÖD "))
        await settle(pilot)
        assert answer_box(app).text == "abc före ␛[31mRÖD xyz"


# ---------------------------------------------------------------- 13. unsent text is kept, under its question


def notes_and_answers(store, dialogue_id) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind, e.qid, e.text) for e in store.load_events(dialogue_id) if e.kind in ("noted", "answered")]


def meeting(store, clock):
    """A dialogue, its first question's id (A) and the app to hold it in."""
    d = start_dialogue(store, clock)
    return d, d.state.current.qid, app_for(store, clock)


async def typed_unsent(pilot, text: str) -> None:
    """The dialogue on screen with ``text`` in the answer box, not sent."""
    await open_first_dialogue(pilot)
    await type_text(pilot, text)


@pytest.mark.parametrize("key", ["ctrl+k", "ctrl+s", "ctrl+e"])
async def test_13_leaving_a_question_keeps_its_unsent_text_as_a_note_to_it(store, clock, mini, key):
    """Ctrl+K/Ctrl+S/Ctrl+E with "abc def" typed: a note to question A, the box empty at question B,
    and Enter there files nothing of A's under B."""
    d, a, app = meeting(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await typed_unsent(pilot, "abc def")
        await pilot.press(key)
        await settle(pilot)
        now = app.screen.d.state.current
        assert now is None or now.qid != a  # the question moved on
        assert answer_box(app).text == ""
        await pilot.press("enter")  # nothing to send
        await settle(pilot)
        assert any("sparades som anteckning" in n.message for n in app._notifications)
    assert notes_and_answers(store, d.id) == [("noted", a, "abc def")]


async def test_13_a_move_that_is_refused_leaves_the_text_in_the_box(store, clock, mini):
    """Ctrl+B at the first question goes nowhere: the text stays in the box, no note is made."""
    d, _, app = meeting(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await typed_unsent(pilot, "abc def")
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert answer_box(app).text == "abc def"
    assert notes_and_answers(store, d.id) == []


async def test_13_ending_with_f9_keeps_the_unsent_text_as_a_note_and_says_so_first(store, clock, mini):
    from assistant.tui.modals import ConfirmModal

    d, a, app = meeting(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await typed_unsent(pilot, "utkast 123")
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "sparas som anteckning" in app.screen.detail
        await pilot.press("tab", "enter")  # "Avsluta dialogen"
        await settle(pilot)
    assert notes_and_answers(store, d.id) == [("noted", a, "utkast 123")]
    assert kinds(store, d.id)[-1] == "finished"


async def test_13_ctrl_q_stores_the_unsent_text_as_a_note_before_the_app_exits(store, clock, mini):
    d, a, app = meeting(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await typed_unsent(pilot, "utkast 123")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert notes_and_answers(store, d.id) == [("noted", a, "utkast 123")]  # stored before the exit
    assert "sparades som anteckning" in app.exit_message
    assert "finished" not in kinds(store, d.id)
