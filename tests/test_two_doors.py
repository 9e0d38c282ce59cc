"""The two doors share one presentation layer (engine/view.py) and one verb table (assistant/verbs.py):
every action reachable where it applies, the palette's key hints the keys actually bound, /hjälp and F1
listing the same actions, nothing described twice; the previous dialogue's wish stored under the same
party by both doors; a suggestion logged as offered once, when a door shows it."""

from __future__ import annotations

import ast
import io
import re

from assistant import verbs
from tests.conftest import REPO, run_cli
from tests.test_tui import (
    app_for,
    clinic_info_now,
    held_dialogue,
    open_first_dialogue,
    settle,
    start_dialogue,
    tel_rows,
    type_text,
)

# The dialogue's actions that both doors have, named independently of the table: a key in the app
# and a slash command in the line mode.
BOTH_DOORS = {
    "skip", "back", "jump", "end_section", "park", "return_parked", "note", "action", "accept", "suggestions",
    "data", "previous", "finish", "help", "quit",
}


# ---------------------------------------------------------------- the verb table


def test_every_verb_is_reachable_in_each_door_where_it_applies():
    from assistant.chat import LineChat
    from assistant.tui.app import DialogstodApp
    from assistant.tui.dialogue import DialogueScreen

    for v in verbs.DIALOGUE + verbs.APP:
        if v.slash:
            assert callable(getattr(LineChat, "cmd_" + v.id, None)), f"/{v.slash[0]} has no handler"
        if v.keys and v.bind:
            owner = DialogstodApp if v.app_action.startswith("app.") else DialogueScreen
            name = v.app_action.removeprefix("app.").split("(")[0]
            assert callable(getattr(owner, "action_" + name, None)), f"{v.display} has no action"
            bound = {(b.key, b.action) for b in owner.BINDINGS}
            assert (v.keys, v.app_action) in bound, f"{v.display} is not bound"
    # ... and the line mode has no command the table does not list.
    handlers = {name.removeprefix("cmd_") for name in vars(LineChat) if name.startswith("cmd_")}
    assert handlers == {v.id for v in verbs.LINE}
    assert {v.id for v in verbs.DIALOGUE + verbs.APP if v.slash and v.keys} == BOTH_DOORS


def test_the_line_mode_takes_every_alias():
    from assistant.chat import LineChat

    called = []
    chat = LineChat.__new__(LineChat)
    for v in verbs.LINE:
        for name in v.slash:
            setattr(chat, "cmd_" + v.id, lambda arg, _id=v.id: called.append(_id))
            chat.command(name, "")
    assert called == [v.id for v in verbs.LINE for _ in v.slash]


def test_no_action_is_described_twice():
    for _, table in verbs.SECTIONS:
        ids = [v.id for v in table]
        assert len(ids) == len(set(ids)), ids
        keys = [k for v in table for k in v.keys.split(",") if k]
        assert len(keys) == len(set(keys)), keys
    app_keys = {k for v in verbs.APP for k in v.keys.split(",") if k}
    for _, table in verbs.SECTIONS[1:]:
        assert not app_keys & {k for v in table for k in v.keys.split(",") if k}
    names = [n for v in verbs.LINE for n in v.slash]
    assert len(names) == len(set(names)), names
    for table in [*(t for _, t in verbs.SECTIONS), verbs.DIALOGUE + verbs.APP]:
        helps = [v.help for v in table]
        assert len(helps) == len(set(helps)), helps
    # The doors name actions only through the table: no string in them (docstrings aside) carries a
    # verb's help, a slash command or a key hint of its own.
    slash = re.compile(r"(?<![\w/{])/(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?![\w-])")
    key = re.compile(r"\b(Ctrl\+[A-Za-z]|F\d{1,2}\b|PgUp|PgDn)")
    texts = {v.help for _, table in verbs.SECTIONS for v in table} | {v.line_help for v in verbs.LINE if v.line_help}
    texts = {t for t in texts if " " in t}  # (a one-word help such as "tillbaka" is any sentence's word)
    found = []
    for path in [REPO / "assistant" / "chat.py", *sorted((REPO / "assistant" / "tui").glob("*.py"))]:
        for text in _strings(path):
            if slash.search(text) or key.search(text) or any(t in text for t in texts):
                found.append(f"{path.name}: {text!r}")
    assert not found, found


def _strings(path) -> list[str]:
    """The string literals of a module, its docstrings left out (they explain, they are not shown)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_help_and_f1_list_the_same_verbs(store, clock, mini):
    from assistant.chat import LineChat
    from assistant.tui.modals import help_content

    out = io.StringIO()
    LineChat(start_dialogue(store, clock), inp=io.StringIO(""), out=out, interactive=False).cmd_help("")
    slash_help = {}
    for line in out.getvalue().splitlines():
        if m := re.match(r"  /(\S+)", line):
            slash_help[m.group(1)] = line
    f1 = help_content().plain
    f1_keys = set()
    for section in f1.split("\n\n"):
        if section.startswith(("Överallt", "Dialogen")):
            f1_keys |= {m.group(1) for m in re.finditer(r"^  (\S+)", section, re.M)}
    in_help = {v.id for v in verbs.LINE if v.slash[0] in slash_help}
    in_f1 = {v.id for v in verbs.DIALOGUE + verbs.APP if v.keys and v.display in f1_keys}
    assert in_help & in_f1 == BOTH_DOORS
    assert in_help == {v.id for v in verbs.LINE}  # /hjälp lists every command, with its aliases
    assert all(f"(/{a})" in slash_help[v.slash[0]] for v in verbs.LINE for a in v.slash[1:])


def _hint_matches(hint: str, keys: str) -> bool:
    """'Ctrl+S' names the binding 'ctrl+s'; 'F9' names 'f9'; 'E' names 'e'."""
    return hint.lower().replace(" / ", ",") == keys


async def test_the_palette_names_the_keys_that_are_bound(store, clock, mini):
    store.replace_indicator_values(tel_rows(), source="test")
    d = start_dialogue(store, clock)
    d.do(__import__("assistant").engine.Park())  # something parked: Ctrl+R applies
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        start = app.screen
        checked = _check_palette(app, start)
        await open_first_dialogue(pilot)
        checked += _check_palette(app, app.screen)
    # Every bound key of the dialogue that the palette lists was checked, the app's own too.
    assert {"skip", "jump", "park", "return_parked", "finish", "data_view", "app.help", "new"} <= set(checked)


def _check_palette(app, screen) -> list[str]:
    bound = {b.action: b.key for b in [*app.BINDINGS, *screen.BINDINGS]}
    checked = []
    for command in app.get_system_commands(screen):
        m = re.search(r"\(([^()]+)\)$", command.help)
        action = getattr(command.callback, "__name__", "").removeprefix("action_")
        if action not in {b.removeprefix("app.") for b in bound}:
            assert m is None or not re.match(r"(Ctrl|F\d|[A-Z]$)", m.group(1)), command  # no key to name
            continue
        full = action if action in bound else "app." + action
        assert m is not None and _hint_matches(m.group(1), bound[full]), (command.title, command.help, bound[full])
        checked.append(full)
    return checked


# ---------------------------------------------------------------- the presentation layer


def test_nothing_to_answer_names_each_doors_way(store, clock, mini):
    from assistant import engine as E
    from assistant.verbs import key_hint, slash_hint

    d = start_dialogue(store, clock)
    while d.state.current is not None:
        d.do(E.Park() if d.state.current.qid == "p1.vilka" else E.Skip())
    line = E.nothing_to_answer(d.state, slash_hint)
    app = E.nothing_to_answer(d.state, key_hint)
    assert line.startswith("Alla frågor är besvarade") and app.startswith("Alla frågor är besvarade")
    assert "1 fråga är parkerad (/parkerade)" in line and "/avsnitt N" in line and "/klar" in line
    assert "1 fråga är parkerad (Ctrl+R)" in app and "Ctrl+G" in app and "F9" in app
    assert line.replace("/parkerade", "Ctrl+R").replace("/avsnitt N", "Ctrl+G").replace("/klar", "F9") == app


def test_the_data_overview_is_the_same_in_both_doors(store, clock, mini):
    from assistant.chat import LineChat
    from assistant.tui.text import plain  # noqa: F401  (the app's panel text is checked in test_tui)

    store.replace_indicator_values(tel_rows(), source="test")
    d = start_dialogue(store, clock)
    overview = d.data_overview()
    assert [f.label for f in overview.flags] == ["Telefontillgänglighet"] and overview.empty is None
    out = io.StringIO()
    LineChat(d, inp=io.StringIO(""), out=out, interactive=False).cmd_data("")
    assert "Telefontillgänglighet" in out.getvalue()
    other = start_dialogue(store, clock, clinic="Utan data")
    assert other.data_overview().empty == "Ingen data importerad för mottagningen."


def test_time_warnings_are_said_once():
    from assistant.engine import Once

    once = Once()
    assert once.new(["Tiden är snart slut"]) == ["Tiden är snart slut"]
    assert once.new(["Tiden är snart slut", "P3 har tagit dubbelt så lång tid"]) == ["P3 har tagit dubbelt så lång tid"]
    assert once.new(["Tiden är snart slut"]) == []


# ---------------------------------------------------------------- the wish for this meeting


async def test_both_doors_store_last_times_wish_under_the_party_followed_up(store, clock, mini):
    held_dialogue(store, clock)  # wishes P3 and Mönster (P4) for next time
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#flow").value = "mini"
        await type_text(pilot, "Fysio Test")
        await clinic_info_now(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        app_focus = app.screen.d.state.focus
    # The line mode, with the app's dialogue still open (--new: a second one on purpose).
    code, out, err = run_cli("chat", "--flow", "mini", "--clinic", "Fysio Test", "--new", stdin="/avsluta\n")
    assert code == 0, err
    assert "Förvalda fokusområden utifrån önskemålet: P3 " in out
    from assistant.session import Dialogue

    line_focus = Dialogue.resume(store, store.list_dialogues()[0]["id"]).state.focus
    assert line_focus == app_focus == {"mottagningen": ["p3", "p4"]}


# ---------------------------------------------------------------- suggestions offered once, when shown


def offered(store, dialogue_id) -> list[str]:
    return [e.payload["sid"] for e in store.load_events(dialogue_id) if e.kind == "suggestion_offered"]


def test_the_line_mode_logs_an_offer_when_it_lists_the_suggestion(store, clock, mini):
    from assistant.chat import LineChat

    store.replace_indicator_values(tel_rows(), source="test")
    d = start_dialogue(store, clock)
    out = io.StringIO()
    LineChat(d, inp=io.StringIO("Tre fysioterapeuter\n/status\n"), out=out, interactive=False).run(fresh=True)
    assert "(1 nytt förslag – /förslag)" in out.getvalue()  # announced, not shown yet
    assert offered(store, d.id) == []
    LineChat(d, inp=io.StringIO("/förslag\nBra\n/förslag\n/förslag\n"), out=io.StringIO(), interactive=False).run(fresh=False)
    assert offered(store, d.id) == ["tel-under-mal"]  # once, however often it is listed


async def test_the_app_logs_an_offer_when_the_panel_shows_the_suggestion(store, clock, mini):
    store.replace_indicator_values(tel_rows(), source="test")
    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_first_dialogue(pilot)
        assert [s.sid for s in app.screen.listed] == ["tel-under-mal"]
        assert offered(store, d.id) == ["tel-under-mal"]
        await type_text(pilot, "Tre")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f3", "f3")  # hidden and shown again
        await settle(pilot)
        assert app.screen.listed and offered(store, d.id) == ["tel-under-mal"]  # not again on every refresh


async def test_the_app_does_not_log_an_offer_while_the_panel_is_hidden(store, clock, mini):
    store.replace_indicator_values(tel_rows(), source="test")
    d = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first_dialogue(pilot)
        assert [s.sid for s in app.screen.listed] == ["tel-under-mal"]  # counted on the status line only
        await type_text(pilot, "Tre")
        await pilot.press("enter")
        await settle(pilot)
        assert offered(store, d.id) == []
        await pilot.press("f3")  # the panel with the suggestion
        await settle(pilot)
        assert offered(store, d.id) == ["tel-under-mal"]
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "tel-under-mal" in app.screen.d.state.accepted and offered(store, d.id) == ["tel-under-mal"]
