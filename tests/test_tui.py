"""The Textual app, driven through Textual's pilot: dialogues held with keys, resumed, searched,
exported; user text never acts as markup or escape sequences; `serve` and the start-up budget."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Select

from tests.conftest import FIXTURES, REPO

SIZE = (120, 40)


# ---------------------------------------------------------------- helpers and fixtures


def tel_rows(clinic: str = "Fysio Test", k: int = 780, n: int = 1000) -> list[dict]:
    """Telephone accessibility under target (and worse than peers) for ``clinic``."""
    rows = [
        {"clinic": clinic, "indicator": "telefontillganglighet", "period": "2025", "numerator": float(k),
         "denominator": float(n), "value": k / n, "direction": None, "target": None}
    ]
    for i in range(6):
        rows.append(
            {"clinic": f"Peer {i}", "indicator": "telefontillganglighet", "period": "2025", "numerator": 880.0,
             "denominator": 1000.0, "value": 0.88, "direction": None, "target": None}
        )
    return rows


def start_dialogue(store, clock, flow="mini", clinic="Fysio Test", **options):
    from assistant import engine as E
    from assistant.session import Dialogue

    return Dialogue.start(store, flow, E.StartOptions(clinic=clinic, **options), clock=clock)


async def settle(pilot, rounds: int = 3) -> None:
    """Let workers finish and the screen catch up (no sleeps)."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_text(pilot, text: str) -> None:
    keys = []
    for ch in text:
        keys.append({" ": "space"}.get(ch, ch))
    await pilot.press(*keys)


def app_for(store, clock):
    from assistant.tui.app import DialogstodApp

    return DialogstodApp(store=store, clock=clock)


def chat_texts(app) -> list[tuple[str, str]]:
    from assistant.tui.dialogue import ChatMessage

    return [(m.msg.kind, m.render().plain) for m in app.screen.query(ChatMessage)]


def kinds(store, dialogue_id) -> list[str]:
    return [e.kind for e in store.load_events(dialogue_id)]


async def clinic_info_now(pilot) -> None:
    """Ny dialog looks the clinic up when typing stops (a 0.4 s debounce): look it up now instead."""
    screen = pilot.app.screen
    if screen._clinic_timer is not None:
        screen._clinic_timer.stop()
    screen._clinic_info_now()
    await settle(pilot)


async def open_first_dialogue(pilot) -> None:
    await settle(pilot)
    await pilot.press("1")
    await settle(pilot)


# ---------------------------------------------------------------- holding a dialogue


async def test_new_dialogue_held_with_keys_commits_each_answer_before_the_next_prompt(
    store, clock, mini, monkeypatch
):
    from assistant.tui.dialogue import ChatView, DialogueScreen
    from assistant.tui.newdialogue import NewDialogueScreen

    seen_on_prompt: list[list[str]] = []
    original = ChatView.add

    def spy(self, msgs):
        if any(m.kind == "prompt" for m in msgs):
            d = self.screen.d
            seen_on_prompt.append(kinds(store, d.id))
        return original(self, msgs)

    monkeypatch.setattr(ChatView, "add", spy)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NewDialogueScreen)
        await type_text(pilot, "Fysio Test")
        # Choose the flow with keys: Tab to the flow list, open it, End (the user flow `mini` is
        # listed last), Enter.
        await pilot.press("tab")
        assert app.focused.id == "flow"
        await pilot.press("enter")
        await pilot.press("end", "enter")
        await settle(pilot)
        assert app.screen.flow_id == "mini"
        await pilot.press("ctrl+s")  # Starta nu
        await settle(pilot)
        assert isinstance(app.screen, DialogueScreen)
        d = app.screen.d
        assert d.state.current.qid == "p1.vilka"
        assert "Vilka arbetar här?" in chat_texts(app)[-1][1]

        await type_text(pilot, "Tre fysioterapeuter")
        await pilot.press("enter")
        await pilot.pause()
        assert d.state.current.qid == "p1.miljo"
        assert seen_on_prompt[-1].count("answered") == 1  # on disk before the prompt was shown
        assert "Hjälp: Tänk på både fysisk och psykosocial miljö." in chat_texts(app)[-1][1]

        await type_text(pilot, "Bra men trångt")
        await pilot.press("ctrl+j")  # a new line, not a send
        await type_text(pilot, "och ett fall")
        assert d.state.current.qid == "p1.miljo"
        await pilot.press("enter")
        await pilot.pause()
        assert seen_on_prompt[-1].count("answered") == 2
        assert d.state.answers["p1.miljo"] == "Bra men trångt\noch ett fall"

        await pilot.press("ctrl+s")  # skip p2.vision
        await pilot.pause()
        assert "p2.vision" in d.state.skipped
        await pilot.press("ctrl+b")  # back to it
        await pilot.pause()
        assert d.state.current.qid == "p2.vision"
        await pilot.press("ctrl+k")  # park it
        await pilot.pause()
        assert d.state.parked == ["p2.vision"]
        await pilot.press("ctrl+n")
        await type_text(pilot, "Det här ska inte sparas")
        await pilot.click("#cancel")  # Avbryt closes without saving
        await pilot.pause()
        assert isinstance(app.screen, DialogueScreen) and d.state.notes == []
        await pilot.press("ctrl+n")
        await type_text(pilot, "Ta upp lokalerna")
        await pilot.press("enter")
        await pilot.pause()
        assert [n.text for n in d.state.notes] == ["Ta upp lokalerna"]
        await pilot.press("ctrl+a")
        await type_text(pilot, "Boka lokalgenomgång")
        await pilot.press("tab")
        await type_text(pilot, "Anna")
        await pilot.press("tab")
        await type_text(pilot, "2027-03-31")
        await pilot.press("enter")
        await pilot.pause()
        action = list(d.state.actions.values())[0]
        assert (action.text, action.owner, action.due) == ("Boka lokalgenomgång", "Anna", "2027-03-31")
        await pilot.press("ctrl+g")
        await pilot.press("4")  # the fourth section: P4
        await pilot.pause()
        assert d.state.current.qid == "p4.telefon"
        await pilot.press("ctrl+r")  # back to the parked question
        await pilot.pause()
        assert d.state.current.qid == "p2.vision"

        from assistant.session import Dialogue

        replayed = Dialogue.resume(store, d.id).state
        assert replayed.answers == d.state.answers
        assert replayed.parked == ["p2.vision"]


@pytest.mark.parametrize(("parked", "hint"), [(1, "1 fråga är parkerad"), (2, "2 frågor är parkerade")])
async def test_nothing_left_to_answer_points_to_the_parked_questions(store, clock, mini, parked, hint):
    from assistant import engine as E

    d = start_dialogue(store, clock)
    for _ in range(parked):
        d.do(E.Park())
    for _ in range(12 - parked):  # the mini flow asks 13 questions: leave the last one
        d.do(E.Skip())
    assert d.state.current.qid == "aterkoppling.kommande_mote"
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert chat_texts(app)[-1][1] == (
            f"Alla frågor är besvarade, överhoppade eller parkerade. {hint} (Ctrl+R). "
            "Gå till ett avsnitt med Ctrl+G, eller avsluta dialogen med F9."
        )
        await pilot.press("ctrl+r")  # one parked question is taken up at once; two are offered to pick from
        await settle(pilot)
        if parked > 1:
            await pilot.press("enter")
            await settle(pilot)
        assert d.id == app.screen.d.id and app.screen.d.state.current.qid == "p1.vilka"


async def test_quit_and_resume(store, clock, mini):
    from assistant.tui.dialogue import DialogueScreen

    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        assert isinstance(app.screen, DialogueScreen)
        await type_text(pilot, "Fyra")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    assert store.load_events(d.id)[-2].text == "Fyra"

    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert d.id in app.screen.open_ids
        await pilot.press("enter")  # Enter on the list resumes the highlighted dialogue
        await settle(pilot)
        assert isinstance(app.screen, DialogueScreen)
        assert app.screen.d.state.answers == {"p1.vilka": "Fyra"}
        assert app.screen.d.state.current.qid == "p1.miljo"
        texts = [t for _, t in chat_texts(app)]
        assert any("Fyra" in t for t in texts)
        assert any("Fortsätter där dialogen slutade (1 svar hittills)." in t for t in texts)


async def test_prepared_dialogue_opens_the_meeting_from_the_start_screen(store, clock, mini):
    from assistant.tui.dialogue import DialogueScreen

    d = start_dialogue(store, clock, prepared=True, focus={"mottagningen": ("p3",)})
    assert d.state.status == "prepared"
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        assert isinstance(app.screen, DialogueScreen)
        assert app.screen.d.state.status == "in_progress"
        assert app.screen.d.state.current.qid == "p3.utmaningar"  # the focus area comes first
    assert "opened" in kinds(store, d.id)


async def test_accepting_a_suggestion_makes_it_the_next_prompt(store, clock, mini):
    store.replace_indicator_values(tel_rows(), source="test")
    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        screen = app.screen
        assert screen.flags_ready
        assert [s.sid for s in screen.listed] == ["tel-under-mal"]
        panel = screen.query_one("#flags").render().plain
        assert "Telefontillgänglighet" in panel and "78\u00a0%" in panel
        assert "suggestion_offered" in kinds(store, d.id)  # shown = recorded as offered
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert screen.d.state.current.qid == "p4.telefon"
        assert "Telefontillgänglighet?" in chat_texts(app)[-1][1]
        assert "suggestion_accepted" in kinds(store, d.id)
        assert screen.listed == []


def text_offset(widget, text: str) -> tuple[int, int]:
    """Where ``text`` is drawn in a widget: (x, y) inside it."""
    from textual.geometry import Region

    for y, strip in enumerate(widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))):
        x = strip.text.find(text)
        if x >= 0:
            return x, y
    raise AssertionError(f"{text!r} is not drawn in {widget!r}")


async def test_dismissing_a_suggestion_with_a_click(store, clock, mini):
    store.replace_indicator_values(tel_rows(), source="test")
    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        item = app.screen.query_one("SuggestionItem")
        x, y = text_offset(item, "Avböj")
        await pilot.click(item, offset=(x + 1, y))
        await pilot.pause()
        assert "tel-under-mal" in app.screen.d.state.dismissed
        assert app.screen.d.state.current.qid == "p1.vilka"
    assert "suggestion_dismissed" in kinds(store, d.id)


@pytest.mark.parametrize(
    ("said", "reason", "target"),
    [
        ("Flera äldre patienter har ramlat i hemmet i vinter.", "Ni nämnde fallolyckor", "prevention och levnadsvanor"),
        ("Patienterna klagar på att de inte kommer fram på telefon.", "Ni nämnde telefontillgängligheten",
         "Telefontillgänglighet?"),
        ("I vissa fall jobbar vi över.", None, None),
    ],
)
async def test_what_was_said_shows_in_the_suggestion_panel(store, clock, said, reason, target):
    from assistant.tui.dialogue import SuggestionItem

    d = start_dialogue(store, clock, flow="fysioterapi-2023")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        assert app.screen.words_ready  # the word list was read in the data worker, not on the answer
        await type_text(pilot, said)
        await pilot.press("enter")
        await settle(pilot)
        shown = [item.render().plain for item in app.screen.query(SuggestionItem)]
        if reason is None:
            assert shown == [] and not app.screen.listed
        else:
            assert len(shown) == 1 and shown[0].startswith(f"1 {reason} –") and target in shown[0]
            assert "ramlat" not in shown[0]  # the concept by its noun, never the word as said
    assert ("suggestion_offered" in kinds(store, d.id)) == (reason is not None)


async def test_a_long_conversation_keeps_few_widgets_and_shows_older_messages_on_request(
    store, clock, mini, monkeypatch
):
    from assistant import engine as E
    from assistant.tui import chatlog
    from assistant.tui import dialogue as screen_module
    from assistant.tui.dialogue import ChatMessage, HistoryBlock

    monkeypatch.setattr(chatlog, "RECENT", 5)
    monkeypatch.setattr(screen_module, "FOLD_AT", 12)
    monkeypatch.setattr(screen_module, "FOLD", 6)
    monkeypatch.setattr(screen_module, "BLOCK", 4)
    d = start_dialogue(store, clock)
    for i in range(20):
        d.do(E.AddNote(f"Anteckning {i}"))
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        chat = app.screen.query_one("#chat")
        assert [t for _, t in chat_texts(app)] == [f"✎ Anteckning: Anteckning {i}" for i in range(15, 20)]
        older = chat.query_one("#older")
        assert older.display and "Visa 4 tidigare meddelanden (av 17)" in str(older.label)
        await pilot.click(older)
        await pilot.pause()
        blocks = list(chat.query(HistoryBlock))
        assert len(blocks) == 1
        text = blocks[0].text.plain
        assert "Anteckning 11" in text and "Anteckning 14" in text and "Anteckning 10" not in text
        assert "Visa 4 tidigare meddelanden (av 13)" in str(older.label)
        # During the meeting the message widgets stay bounded: the oldest are folded into a block.
        for answer in ("Tre", "Bra", "Vi vill växa", "Inga"):
            await type_text(pilot, answer)
            await pilot.press("enter")
            await pilot.pause()
        assert len(chat.query(ChatMessage)) == 13 - 6
        blocks = list(chat.query(HistoryBlock))
        assert len(blocks) == 2 and "Anteckning 15" in blocks[1].text.plain
        assert chat.children.index(blocks[0]) < chat.children.index(blocks[1])
        # All of it, in order, the welcome first.
        while older.display:
            older.press()  # (scrolled out of view by now)
            await pilot.pause()
        text = "\n".join(b.text.plain for b in chat.query(HistoryBlock))
        assert text.startswith("Uppföljningsdialog · Fysio Test")
        order = [text.index("Vilka arbetar här?")] + [text.index(f"Anteckning {i}\n") for i in range(15)]
        assert order == sorted(order)


async def test_each_time_warning_is_shown_once(store, clock, mini):
    from assistant import engine as E

    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        screen = app.screen
        for _ in range(4):  # 56 minutes of a 60-minute meeting, most of it in P1
            clock.tick(minutes=14)
            screen.run(E.AddNote("Vi pratar vidare om personalen."))
            screen.tick()
            await pilot.pause()
        shown = [n.message for n in app._notifications if n.title == "Tid"]
        assert any("P1" in m and "planerade tid" in m for m in shown)
        assert any("fjärdedel" in m for m in shown)
        assert len(shown) == len(set(shown))
    assert d.id


async def test_markup_and_escape_sequences_in_an_answer_show_literally_and_do_nothing(store, clock, mini):
    start_dialogue(store, clock)
    evil = "[b]fet[/b] [@click=app.quit]klick[/] [link=https://example.org]länk[/link] \x1b[31mröd\x1b]0;titel\x07"
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        box = app.screen.query_one("#answer")
        box.insert(evil)
        await pilot.press("enter")
        await pilot.pause()
        answer = [t for k, t in chat_texts(app) if k == "answer"][-1]
        assert "[b]fet[/b]" in answer
        assert "[@click=app.quit]klick[/]" in answer
        assert "[link=https://example.org]länk[/link]" in answer
        assert "␛[31mröd␛]0;titel␇" in answer
        assert "\x1b" not in answer
        # Clicking the message runs no action: the app keeps running.
        await pilot.click("ChatMessage.answer")
        await pilot.pause()
        assert app.is_running
        assert app.return_code is None
        # The clinic name in the title is plain too.
    async with app_for(store, clock).run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        assert "[b]" not in pilot.app.screen.query_one("#areas").render().plain


async def test_clinic_name_with_markup_is_shown_literally(store, clock, mini):
    start_dialogue(store, clock, clinic="[red]Röda[/red] [@click=app.quit]x[/]")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#open")
        cell = table.get_row_at(0)[1]
        assert cell.plain == "[red]Röda[/red] [@click=app.quit]x[/]"
        await pilot.press("1")
        await settle(pilot)
        title = app.screen.query_one("TopBar #title").render().plain
        assert "[red]Röda[/red] [@click=app.quit]x[/]" in title
        assert app.is_running


async def test_personal_identity_number_is_masked_and_notified(store, clock, mini):
    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await type_text(pilot, "Patienten 19121212-1212 ringde")
        await pilot.press("enter")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("personnummer" in m and "maskerades" in m for m in messages)
        assert "19121212-1212" not in app.screen.d.state.answers["p1.vilka"]


def burst(app, text: str) -> None:
    """Keys arriving all at once, faster than the app handles them: a fast typist, or a browser
    whose keys come over a WebSocket (``dialogstod serve``). Nothing waits between them."""
    from textual import events

    for ch in text:
        key = {" ": "space", "\n": "enter", ",": "comma"}.get(ch, ch)
        app.post_message(events.Key(key, None if ch == "\n" else ch))


async def test_typing_ahead_after_a_hotkey_reaches_the_new_screen_in_order(store, clock, mini):
    from assistant.tui.dialogue import AnswerBox, DialogueScreen

    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        # "1" before the list of dialogues has even loaded, then straight on with the answer: its
        # letters (t, i, d, n) are start-screen hotkeys and must reach the answer box instead
        burst(app, "1Tio distriktssköterskor, inte en dietist")
        await settle(pilot, rounds=6)
        assert isinstance(app.screen, DialogueScreen)
        assert app.screen.query_one(AnswerBox).text == "Tio distriktssköterskor, inte en dietist"
        burst(app, "\nTvå till\n")  # Enter sends; the next answer waits for the next prompt
        await settle(pilot, rounds=6)
    answers = [e.text for e in store.load_events(d.id) if e.kind == "answered"]
    assert answers == ["Tio distriktssköterskor, inte en dietist", "Två till"]
    assert store.indicator_values() == []  # "d" did not import the demo data


async def test_typing_ahead_into_a_new_dialogue_loses_nothing(store, clock, mini):
    from textual.widgets import Input, Select

    from assistant.tui.dialogue import AnswerBox, DialogueScreen

    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "nVårdcentral Test")
        await settle(pilot, rounds=6)
        assert app.screen.query_one("#clinic", Input).value == "Vårdcentral Test"
        flow = app.screen.query_one("#flow", Select)
        flow.value = "mini"
        await settle(pilot)
        from textual import events

        app.post_message(events.Key("ctrl+s", None))
        burst(app, "Vilka? Tio stycken")
        await settle(pilot, rounds=8)
        assert isinstance(app.screen, DialogueScreen)
        assert app.screen.query_one(AnswerBox).text == "Vilka? Tio stycken"
        assert app.screen.d.clinic == "Vårdcentral Test"


async def test_identity_numbers_typed_in_the_app_never_reach_the_database(store, clock, mini):
    from textual import events
    from textual.widgets import Input, Select

    from assistant.tui.dialogue import DialogueScreen

    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "nFysio 19121212\u20131212")  # an en dash
        await settle(pilot, rounds=6)
        app.screen.query_one("#flow", Select).value = "mini"
        await settle(pilot)
        app.post_message(events.Key("ctrl+s", None))
        await settle(pilot, rounds=8)
        assert isinstance(app.screen, DialogueScreen)
        burst(app, "Ring pnr 0701234569 eller 121212 1212\n")
        await settle(pilot, rounds=6)
        await pilot.press("ctrl+a")  # an action with an owner
        await settle(pilot)
        app.screen.query_one("#action-text", Input).value = "Boka samtal"
        app.screen.query_one("#action-owner", Input).value = "Anna 19121212-1212"
        await pilot.click("#save")
        await settle(pilot)
        did = app.screen.d.id if isinstance(app.screen, DialogueScreen) else None
    assert did is not None
    text = json.dumps([e.to_dict() for e in store.load_events(did)], ensure_ascii=False)
    text += json.dumps(store.list_dialogues(), ensure_ascii=False, default=str)
    for digits in ("19121212", "0701234569", "121212 1212"):
        assert digits not in text
    assert text.count("ÅÅÅÅMMDD-XXXX") >= 4


async def test_empty_answer_is_refused_gently(store, clock, mini):
    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.d.state.current.qid == "p1.vilka"
        assert any("Svaret är tomt" in n.message for n in app._notifications)
    assert "answered" not in kinds(store, d.id)


async def test_finish_opens_the_transcript_and_offers_export(store, clock, mini):
    from assistant.tui.archive import TranscriptScreen
    from assistant.tui.modals import ExportModal

    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        await type_text(pilot, "Alla")
        await pilot.press("enter")
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press("enter")  # the safe button has the focus: the meeting goes on
        await settle(pilot)
        assert kinds(store, d.id)[-1] != "finished" and not isinstance(app.screen, ExportModal)
        await pilot.press("f9")
        await pilot.pause()
        await pilot.click("#yes")
        await settle(pilot)
        assert isinstance(app.screen, ExportModal)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TranscriptScreen)
    assert kinds(store, d.id)[-1] == "finished"


# ---------------------------------------------------------------- earlier dialogues


def finished_dialogue(store, clock, clinic="Fysio Test", answer="Vi hade en avvikelse i våras."):
    from assistant import engine as E

    d = start_dialogue(store, clock, clinic=clinic)
    d.do(E.Answer("Tre fysioterapeuter"))
    clock.tick(minutes=3)
    d.do(E.Answer(answer))
    d.do(E.AddAction("Se över rutinen", "Anna", "2027-03-31"))
    d.do(E.Finish())
    return d


async def test_search_and_open_a_past_dialogue(store, clock, mini):
    from assistant.tui.archive import ArchiveScreen, TranscriptScreen

    d = finished_dialogue(store, clock)
    finished_dialogue(store, clock, clinic="Annan mottagning", answer="Inget särskilt.")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ArchiveScreen)
        assert app.screen.query_one("#list").row_count == 2
        await pilot.press("ctrl+f")
        await type_text(pilot, "avvik*")
        await pilot.press("enter")
        await settle(pilot)
        hits = app.screen.query_one("#hits")
        assert hits.row_count == 1
        assert "«avvikelse»" in hits.get_row_at(0)[3].plain
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TranscriptScreen)
        text = app.screen.query_one("#transcript").text
        assert "Vi hade en avvikelse i våras." in text
        assert d.id in text


async def test_archive_filters_by_clinic_and_year(store, clock, mini):
    # The clock starts 2026-03-12: dialogues in 2026, 2027 (two) and 2028.
    finished_dialogue(store, clock, clinic="Tjugosex")
    clock.tick(days=365)
    finished_dialogue(store, clock, clinic="Tjugosju A")
    finished_dialogue(store, clock, clinic="Tjugosju B")
    clock.tick(days=365)
    finished_dialogue(store, clock, clinic="Tjugoåtta")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        table = app.screen.query_one("#list")

        def clinics() -> list[str]:
            return [table.get_row_at(i)[1].plain for i in range(table.row_count)]

        assert clinics() == ["Tjugoåtta", "Tjugosju B", "Tjugosju A", "Tjugosex"]
        app.screen.query_one("#f-clinic", Select).value = "Tjugosju A"
        await settle(pilot)
        assert clinics() == ["Tjugosju A"]
        app.screen.query_one("#f-clinic", Select).clear()
        app.screen.query_one("#f-year", Select).value = 2027
        await settle(pilot)
        assert clinics() == ["Tjugosju B", "Tjugosju A"]
        assert app.screen.query_one("#archive-info").render().plain.startswith("2 dialoger.")
        app.screen.query_one("#f-clinic", Select).value = "Tjugosex"
        await settle(pilot)
        assert clinics() == [] and "Inga dialoger med de här filtren." in app.screen.query_one(
            "#archive-info"
        ).render().plain
        app.screen.query_one("#f-year", Select).value = 2026
        await settle(pilot)
        assert clinics() == ["Tjugosex"]
        app.screen.query_one("#f-year", Select).clear()
        app.screen.query_one("#f-clinic", Select).clear()
        await settle(pilot)
        assert len(clinics()) == 4


async def test_archive_lists_the_newest_and_says_there_are_more(store, clock, mini, monkeypatch):
    from assistant.tui import archive

    monkeypatch.setattr(archive, "LIST_LIMIT", 2)
    for clinic in ("Första", "Andra", "Tredje"):
        finished_dialogue(store, clock, clinic=clinic)
        clock.tick(days=400)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        table = app.screen.query_one("#list")
        assert [table.get_row_at(i)[1].plain for i in range(table.row_count)] == ["Tredje", "Andra"]
        assert "det finns fler" in app.screen.query_one("#archive-info").render().plain
        # The year filter knows every year, not only those of the rows shown.
        years = [str(value) for _, value in app.screen.query_one("#f-year")._options if value != Select.NULL]
        assert years == ["2028", "2027", "2026"]
        app.screen.query_one("#f-clinic").value = "Första"
        await settle(pilot)
        assert table.row_count == 1 and table.get_row_at(0)[1].plain == "Första"
        assert "det finns fler" not in app.screen.query_one("#archive-info").render().plain


async def test_start_screen_lists_the_newest_open_dialogues(store, clock, mini, monkeypatch):
    from assistant.tui import start

    monkeypatch.setattr(start, "OPEN_LIMIT", 2)
    for clinic in ("Första", "Andra", "Tredje"):
        start_dialogue(store, clock, clinic=clinic)
        clock.tick(minutes=5)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#open")
        assert table.row_count == 2
        assert "fler finns under Tidigare dialoger" in app.screen.query_one("#dbinfo").render().plain


async def test_continuing_from_the_transcript_does_not_replay_again(store, clock, mini, monkeypatch):
    from assistant.session import Dialogue
    from assistant.tui.dialogue import DialogueScreen

    d = start_dialogue(store, clock)
    resumed = []
    original = Dialogue.resume.__func__

    def counting(cls, *args, **kwargs):
        resumed.append(args[1] if len(args) > 1 else None)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Dialogue, "resume", classmethod(counting))
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show_transcript(d.id)
        await settle(pilot)
        assert len(resumed) == 1
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, DialogueScreen)
        assert len(resumed) == 1


async def test_export_from_the_transcript_writes_a_private_file(store, clock, mini, isolated_dirs):
    from assistant import locations
    from assistant.tui.archive import TranscriptScreen

    d = finished_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show_transcript(d.id)
        await settle(pilot)
        assert isinstance(app.screen, TranscriptScreen)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # html → docx → md, Enter exports it
        await settle(pilot)
        messages = [n.message for n in app._notifications]
    folder = locations.exports_dir()
    files = list(folder.glob("*.md"))
    assert len(files) == 1
    assert "Vi hade en avvikelse i våras." in files[0].read_text(encoding="utf-8")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert any(str(files[0]) in m for m in messages)


async def test_action_done_and_correction_from_the_transcript(store, clock, mini):
    d = finished_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show_transcript(d.id)
        await settle(pilot)
        await pilot.press("k")
        await pilot.pause()
        assert app.screen.d.state.actions["a1"].status == "done"
        assert "☑ klar" in app.screen.query_one("#actions").get_row_at(0)[4].plain
        await pilot.press("r")
        await pilot.pause()
        box = app.screen.query_one("#correct-text")
        assert box.text == "Tre fysioterapeuter"
        box.load_text("Fyra fysioterapeuter")
        app.screen.query_one("#who").value = "Eva"
        await pilot.click("#save")
        await pilot.pause()
        text = app.screen.query_one("#transcript").text
        assert "Fyra fysioterapeuter" in text
        assert "rättad av Eva" in text
    events = store.load_events(d.id)
    assert [e.kind for e in events][-2:] == ["action_updated", "corrected"]
    assert events[-1].payload["previous"] == "Tre fysioterapeuter"


# ---------------------------------------------------------------- start screen, import, narrow


async def test_empty_database_welcomes_and_imports_the_demo_data(store, clock):
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        welcome = app.screen.query_one("#welcome").render().plain
        assert "dialogstod data demo" in welcome
        assert str(store.path) in app.screen.query_one("#dbinfo").render().plain
        await pilot.press("d")
        await settle(pilot)
        assert any("Importerade" in n.message for n in app._notifications)
    assert store.indicator_values()


async def test_import_of_a_bad_file_imports_nothing_and_says_why(store, clock):
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await type_text(pilot, str(FIXTURES / "data" / "fel-rubriker.csv"))
        await pilot.press("enter")
        await settle(pilot)
        assert any("Inget importerades" in (n.title or "") for n in app._notifications)
        assert app.is_running
    assert not store.indicator_values()


def held_dialogue(store, clock, clinic="Fysio Test", wish="Nästa gång vill vi prata om P3 och patienterna, och om mönster."):
    """A finished dialogue with a wish for next time, a carried answer and an open action."""
    from assistant import engine as E

    old = start_dialogue(store, clock, clinic=clinic)
    old.do(E.Jump("sammanfattning"))
    old.do(E.Answer("Bra stämning"))
    old.do(E.Answer("Telefontiderna"))  # sammanfattning.jobba_vidare, carried to the next dialogue
    old.do(E.Answer(wish))  # aterkoppling.kommande_mote
    old.do(E.AddAction("Se över telefontiderna", "Anna"))
    old.do(E.Finish())
    clock.tick(days=200)
    return old


async def test_new_dialogue_shows_the_previous_dialogue_and_preselects_focus(store, clock, mini):
    from assistant.tui.dialogue import DialogueScreen

    store.replace_indicator_values(tel_rows(), source="test")
    held_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#flow").value = "mini"
        await type_text(pilot, "fysio test")
        await clinic_info_now(pilot)
        previous = app.screen.query_one("#previous").render().plain
        assert "Önskemål inför detta möte:\nNästa gång vill vi prata om P3" in previous
        assert "Vad ska ni jobba vidare med?\nTelefontiderna" in previous  # carried, as in the line mode
        assert "☐ Se över telefontiderna (Anna)" in previous
        assert "Data sedan dess:" in previous and "Telefontillgänglighet" in previous
        assert "Förvalda fokusområden utifrån önskemålet: P3 " in previous
        assert app.screen.query_one("#focus-mottagningen").selected == ["p3", "p4"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DialogueScreen)
        assert app.screen.d.state.focus == {"mottagningen": ["p3", "p4"]}
        assert app.screen.d.state.current.qid == "p3.utmaningar"
        # The conversation opens with the same block, after the welcome and before the first question.
        texts = chat_texts(app)
        assert [k for k, _ in texts[:3]] == ["welcome", "previous", "prompt"]
        assert "Från förra dialogen" in texts[1][1] and "Telefontiderna" in texts[1][1]


async def test_changed_focus_says_what_the_wish_names_instead(store, clock, mini):
    held_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#flow").value = "mini"
        await type_text(pilot, "Fysio Test")
        await clinic_info_now(pilot)
        box = app.screen.query_one("#focus-mottagningen")
        box.focus()
        box.highlighted = 2
        await pilot.press("space")  # not P3 after all: now the focus is the user's own choice
        await pilot.pause()
        assert box.selected == ["p4"]
        assert app.screen.focus_touched
        assert "Önskemålet nämner: P3 " in app.screen.query_one("#previous").render().plain


async def test_prepared_dialogue_opened_on_the_meeting_day_shows_the_previous_dialogue(store, clock, mini):
    from assistant.tui.dialogue import DialogueScreen

    held_dialogue(store, clock)
    d = start_dialogue(store, clock, prepared=True)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        assert isinstance(app.screen, DialogueScreen)
        assert app.screen.d.id == d.id and app.screen.d.state.status == "in_progress"
        texts = chat_texts(app)
        kinds_shown = [k for k, _ in texts]
        assert kinds_shown.index("previous") == 1  # right after the welcome
        assert kinds_shown.index("previous") < kinds_shown.index("prompt")
        block = texts[1][1]
        assert "Önskemål inför detta möte:\nNästa gång vill vi prata om P3" in block
        assert "☐ Se över telefontiderna (Anna)" in block
        assert "Önskemålet nämner: P3 " in block  # prepared without these areas in focus


async def test_resumed_dialogue_shows_the_previous_dialogue_again(store, clock, mini):
    """Issue #15 point 7: "Från förra dialogen" was gone after a resume (the meeting still needs it:
    the wish, last year's open actions)."""
    held_dialogue(store, clock)
    start_dialogue(store, clock)  # in progress: the meeting has already begun
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        shown = [k for k, _ in chat_texts(app)]
        assert shown.count("previous") == 1 and shown.index("previous") == 1  # right after the welcome
        assert "Se över telefontiderna" in dict(chat_texts(app))["previous"]


async def test_a_broken_regional_flow_is_named_on_ny_dialog(store, clock, mini):
    from assistant import locations

    (locations.user_flows_dir() / "trasig.toml").write_text('id = "trasig"\ntitle = 3\n', encoding="utf-8")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        flows = [f.flow.id for f in app.screen.flows]
        assert "mini" in flows and "trasig" not in flows
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert len(warnings) == 1
        assert "trasig.toml" in warnings[0].message
        assert "kunde inte läsas" in (warnings[0].title or "")


async def test_flag_markers_worse_better_and_far_from_peers(store, clock, mini):
    rows = tel_rows()
    for clinic, value in [("Fysio Test", 0.60)] + [(f"Peer {i}", 0.30) for i in range(6)]:
        rows.append({"clinic": clinic, "indicator": "besok_nybesok", "period": "2025", "numerator": value * 1000,
                     "denominator": 1000.0, "value": value, "direction": None, "target": None})
    for clinic, value in [("Fysio Test", 0.97)] + [(f"Peer {i}", 0.80) for i in range(6)]:
        rows.append({"clinic": clinic, "indicator": "rehabplaner", "period": "2025", "numerator": value * 1000,
                     "denominator": 1000.0, "value": value, "direction": None, "target": None})
    store.replace_indicator_values(rows, source="test")
    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        panel = app.screen.query_one("#flags").render()
        lines = {line.plain[0]: line for line in panel.split("\n") if line.plain[:1] in ("▼", "▲", "◆")}
        assert set(lines) == {"▼", "▲", "◆"}
        assert "Telefontillgänglighet" in lines["▼"].plain
        assert "besök" in lines["◆"].plain.casefold()
        styles = {mark: next(str(sp.style) for sp in line.spans if sp.start == 0) for mark, line in lines.items()}
        assert "$text-warning" in styles["▼"] and "$text-success" in styles["▲"] and "$text-accent" in styles["◆"]


async def test_narrow_window_hides_side_panels_and_shows_a_status_line(store, clock, mini):
    store.replace_indicator_values(tel_rows(), source="test")
    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first_dialogue(pilot)
        screen = app.screen
        assert not screen.query_one("#areas-panel").display or screen.query_one("#areas-panel").region.width == 0
        status = screen.query_one("#status-line")
        assert status.region.height == 1
        assert "Förslag 1" in status.render().plain
        await pilot.press("f3")
        await pilot.pause()
        assert screen.query_one("#data-panel").region.width > 0


@pytest.mark.parametrize("width", [80, 90, 100, 120])
async def test_the_key_bar_fits_any_width_and_keeps_help(store, clock, mini, width):
    from assistant.tui.widgets import KeyBar

    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=(width, 30)) as pilot:
        await open_first_dialogue(pilot)
        bar = app.screen.query_one(KeyBar)
        text = bar.render().plain
        assert len(text) <= width
        # What matters most is kept at every width: help, skip, go to, note, action – and ending the
        # meeting, which never showed before (issue #15 point 6).
        for key in ("f1 Hjälp", "^s Hoppa", "^g Gå till", "^n Anteckning", "^a Åtgärd", "f9 Avsluta"):
            assert key in text, (key, text)
        assert "Kommandon" not in text or text.rstrip().endswith("^p Kommandon")
        # Nothing is drawn over anything else: the line is whole "<key> <label>" items and spaces.
        shown, palette = bar.keys()
        rest = text
        for display, label, _, _ in [*shown, *([palette] if palette else [])]:
            rest = rest.replace(f"{display} {label}", "", 1)
        assert rest.strip() == "", text


async def test_clicking_a_key_in_the_key_bar_presses_it(store, clock, mini):
    from assistant.tui.modals import HelpScreen
    from assistant.tui.widgets import KeyBar

    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        bar = app.screen.query_one(KeyBar)
        x, y = text_offset(bar, "f1 Hjälp")
        await pilot.click(bar, offset=(x + 1, y))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_help_and_palette_list_the_dialogue_commands(store, clock, mini):
    from assistant.tui.modals import HelpScreen

    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        names = [c.title for c in app.get_system_commands(app.screen)]
        for expected in ("Hoppa över frågan", "Tillbaka", "Parkera frågan", "Anteckning", "Åtgärd",
                         "Gå till avsnitt", "Avsluta dialogen", "Stäng appen", "Ljust/mörkt tema"):
            assert expected in names
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("#help-text").render().plain
        assert "Ctrl+J" in text and "hoppa över frågan" in text
        await pilot.press("escape")
        await pilot.press("f2")
        await pilot.pause()
        assert app.theme == "textual-light"


# ---------------------------------------------------------------- the start-up budget


def test_app_module_does_not_import_heavy_libraries():
    code = (
        "import sys\nimport assistant.tui.app\n"
        "heavy = [m for m in ('scipy', 'docx', 'openpyxl', 'textual_serve', 'numpy', 'storage', 'sqlite_utils')"
        " if m in sys.modules]\nprint(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == ""


def test_tui_sources_never_write_sql_or_walk_the_flow():
    import re

    folder = Path(REPO) / "assistant" / "tui"
    sql = re.compile(r"\b(SELECT\s.*\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.IGNORECASE)
    for path in folder.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not sql.search(text), path.name
        for banned in ("import sqlite3", "next_question(", "E.step(", "E.replay(", "flow.order"):
            assert banned not in text, f"{path.name}: {banned}"


# ---------------------------------------------------------------- the data view (F4)


async def test_data_view_shows_each_indicators_funnel_and_run_chart(store, clock, mini):
    from assistant.data import DEMO_FILE
    from assistant.data.importer import parse_indicator_file
    from assistant.flows import default_catalogue

    store.replace_indicator_values(parse_indicator_file(DEMO_FILE, default_catalogue()).rows, source="demo")
    start_dialogue(store, clock, clinic="Fysio Norr (påhittad)")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_dialogue(pilot)
        dialogue = app.screen
        await pilot.press("f4")
        await settle(pilot)
        from textual.widgets import OptionList
        from textual_plotext import PlotextPlot

        from assistant.tui.dataview import DataScreen

        screen = app.screen
        assert isinstance(screen, DataScreen)
        listing = screen.query_one(OptionList)
        assert listing.option_count == len(dialogue.d.flags())
        # it opens on the first indicator that says something: the telephone accessibility
        explanation = screen.query_one("#explanation-text").render().plain
        assert explanation.startswith("Telefontillgänglighet 2025") and "bland fysioterapimottagningar" in explanation
        funnel, run = screen.query(PlotextPlot)
        assert funnel.display and run.display  # 40 rows: both pictures at once
        drawn = "\n".join(strip.text for strip in funnel.render_lines(funnel.region.reset_offset))
        assert "Telefontillgänglighet 2025 bland fysioterapimottagningar" in drawn and "●" in drawn
        drawn = "\n".join(strip.text for strip in run.render_lines(run.region.reset_offset))
        assert "2022" in drawn and "2025" in drawn
        await pilot.press("down")
        await pilot.pause()
        assert screen.query_one("#explanation-text").render().plain.startswith("Väntetid akut 2025")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is dialogue


async def test_data_view_in_a_small_window_shows_one_picture_at_a_time(store, clock, mini):
    store.replace_indicator_values(tel_rows(), source="test")
    start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first_dialogue(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert screen.has_class("compact")
        funnel, run = screen.query_one("#funnel"), screen.query_one("#run")
        assert funnel.display and not run.display
        await pilot.press("v")
        await pilot.pause()
        assert run.display and not funnel.display
        assert "V växlar" in screen.query_one("#plot-caption").render().plain
