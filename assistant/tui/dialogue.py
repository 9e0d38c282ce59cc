"""The dialogue screen: the conversation, the answer box, coverage and time, data and suggestions.

The screen holds a ``Dialogue`` and nothing else of the dialogue: after every ``dialogue.do(...)``
(which commits the events before it returns) it re-reads ``dialogue.state`` and lays it out,
with whatever other windows wrote to the same dialogue meanwhile (``dialogue.caught_up``).

Nothing typed is lost on the way to the database: if it is busy (another program holds the
write lock), the answer stays in the box (read-only) while a worker waits for it, with a line
saying so; if it cannot be written at all, the answer stays in the box and in the recovery file
(``assistant.session``), and Enter sends it again once the problem is fixed. Nor is it lost or
misfiled by leaving the question: text left unsent in the box when the question on screen changes
(skip, park, back, Gå till, Avsnitt klart, a suggestion taken, a parked question taken up), the
meeting ends (F9) or the app closes (Ctrl+Q) is stored first as a note to the question it was
typed under (``keep_draft``), and the box is emptied.

The conversation is ``tui/conversation.py`` (it stays cheap however long the meeting), a
suggestion in the panel ``tui/suggestion_item.py``; what the screen shows besides the prompt comes
from ``engine/view.py`` and its keys from ``assistant/verbs.py``, as in the line mode. The clinic's
data, the suggestions and "Från förra dialogen" load in a worker after the first paint.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Button, Static

from assistant import engine as E
from assistant import glossary, lexicon, verbs
from assistant.session import FREE_AGAIN, Busy, Dialogue, DialogueError, NotStored, Unsaved
from assistant.textsafe import one_line
from assistant.tui import chatlog
from assistant.tui.conversation import ChatView, Panel
from assistant.tui.keys import bindings, palette_entries
from assistant.tui.suggestion_item import SuggestionItem
from assistant.tui.text import flag_mark, flag_summary, plain, plain_line
from assistant.tui.widgets import AnswerBox, KeyBar, TopBar
from assistant.verbs import key_hint

if TYPE_CHECKING:
    from assistant.continuity import Previous

WAITING_LINE = "Databasen är upptagen av ett annat program. Det du skrev sparas så snart den är ledig."
FIRST_TRY_MS = 300  # how long a write may wait for the lock on the UI thread before a worker takes over
EXIT_WAIT_MS = 2000  # how long Ctrl+Q waits for the lock to store the answer box's text before the recovery file
STILL_WAITING = "Väntar fortfarande på databasen – det du skrev finns kvar. Försök igen om en stund."


def title_key(title: str) -> str:
    """'Processer – utveckling, kvalitet och rutiner (Processer)' -> 'Processer'."""
    return re.split(r"\s+[–-]\s+|\s*\(", title, maxsplit=1)[0].strip()


def short_label(area: E.AreaCoverage) -> str:
    """'P4 Processer – utveckling, kvalitet och rutiner (Processer)' -> 'P4 Processer'."""
    title = title_key(area.title)
    return f"{area.area} {title}" if area.area else title


class DialogueScreen(Screen):
    BINDINGS = bindings(verbs.DIALOGUE)

    def __init__(
        self,
        dialogue: Dialogue,
        *,
        fresh: bool = False,
        history: chatlog.History | None = None,
        find_previous: bool = False,
    ) -> None:
        """``history``: the conversation as ``chatlog.history`` built it (in the worker that
        opened the dialogue); ``find_previous``: show "Från förra dialogen" at the top (a new
        dialogue, or a prepared one whose meeting just began)."""
        super().__init__()
        self.d = dialogue
        self.fresh = fresh
        self.history = history
        self.find_previous = find_previous
        self.tracker = history.tracker if history is not None else chatlog.Tracker()
        self.flags_ready = False
        self.words_ready = lexicon.is_loaded()  # the Swedish word list, for what the answers take up
        self.previous: Previous | None = None
        self.warned = E.Once()  # time warnings are said once
        self.listed: list[E.Suggestion] = []  # the open suggestions (the panel shows the first nine)
        self.pending: NotStored | None = None  # a command a worker is waiting to store

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield TopBar(self.title_content(), self.clock_content(), id="topbar")
        with Horizontal(id="body"):
            with Panel(id="areas-panel", classes="side"):
                yield Static(Content.styled("Områden", "bold"), classes="panel-title")
                yield Static("", id="areas", markup=False)
            with Vertical(id="center"):
                yield ChatView(id="chat")
                yield Static("", id="status-line", markup=False)
                yield AnswerBox(
                    placeholder=f"Skriv svaret – {key_hint('send')} skickar, {key_hint('newline')} ger ny rad", id="answer"
                )
            with Panel(id="data-panel", classes="side"):
                yield Static(Content.styled("Data", "bold"), classes="panel-title")
                yield Static(Content("Läser in data …"), id="flags", markup=False)
                yield Static(Content.styled("Förslag", "bold"), classes="panel-title")
                yield Vertical(id="suggestions")
                yield Static("", id="suggestions-empty", classes="muted", markup=False)
        yield KeyBar()

    def title_content(self) -> Content:
        mode = " · självskattning" if self.d.state.mode == "self" else ""
        return Content.assemble(
            ("Dialogstöd · ", "bold"), plain(self.d.clinic + " ", "bold"), (f"· {self.d.flow.title}{mode}", "")
        )

    def clock_content(self) -> Content:
        return Content(glossary.meeting_time(self.d.elapsed(), self.d.flow.meeting_minutes))

    def on_mount(self) -> None:
        state = self.d.state
        history = self.history or chatlog.history(self.d, fresh=self.fresh)
        self.tracker, self.history = history.tracker, None
        chat = self.query_one(ChatView)
        chat.show_history(history)
        if state.current is None:
            chat.add([chatlog.Msg("system", Content(self.nothing_to_answer()))])
        self.refresh_panels()
        self.query_one(AnswerBox).focus()
        self.set_interval(10, self.tick)
        self.call_after_refresh(self.load_flags)  # after the first paint

    @work(thread=True, exclusive=True, group="flags")
    def load_flags(self) -> None:
        flags = self.d.flags()  # slow the first time (statistics); cached on the dialogue
        previous = None
        if self.find_previous:
            from assistant.continuity import previous_dialogue

            previous = previous_dialogue(self.app.store, self.d.clinic, self.d.flow, flags, exclude=self.d.id)
        self.app.call_on_screen(self, self.on_flags_ready, previous)
        if not self.words_ready:
            lexicon.warm()  # about a second, once per process: here, not on the first answer
            self.app.call_on_screen(self, self.on_words_ready)

    def on_words_ready(self) -> None:
        self.words_ready = True
        self.refresh_panels()

    def on_flags_ready(self, previous: Previous | None = None) -> None:
        self.flags_ready = True
        self.refresh_panels()
        if previous is not None and not previous.empty:
            self.previous = previous
            self.query_one(ChatView).insert_after_welcome(self.previous_message(previous))

    def previous_message(self, previous: Previous) -> chatlog.Msg:
        from assistant.continuity import preselected
        from assistant.report import local_today

        flow = self.d.flow
        chosen = preselected(flow, previous, self.d.state.focus)
        today = local_today(self.app.clock())
        return chatlog.Msg("previous", chatlog.previous_content(previous, flow, preselected=chosen, today=today))

    def tick(self) -> None:
        self.query_one(TopBar).set_right(self.clock_content())
        self.show_warnings()

    # ------------------------------------------------------------ running commands

    def run(self, command: Any) -> list[E.Event] | None:
        """Commit a command (dialogue.do writes the events before returning), then lay out the new
        state. None if nothing was stored (yet): a busy database hands the command to a worker."""
        if self.pending is not None:
            self.notify(STILL_WAITING, severity="warning", markup=False)
            return None
        try:
            made = self.d.do(command, patience=0, busy_timeout_ms=FIRST_TRY_MS)
        except E.EngineError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            if self.d.caught_up:
                self.after([])
            return None
        except Busy as exc:
            self.wait_for_database(exc)
            return None
        except DialogueError as exc:
            self.not_stored(exc)
            return None
        self.after(made)
        return made

    def wait_for_database(self, busy: NotStored) -> None:
        """The database is busy: keep what was typed on screen and store it from a worker."""
        self.pending = busy
        self.query_one(AnswerBox).read_only = True
        self.query_one("#status-line", Static).update(Content.styled("⏳ " + WAITING_LINE, "bold $text-warning"))
        self.notify(WAITING_LINE, title="Databasen är upptagen", severity="warning", markup=False, timeout=8)
        self.store_later(busy.command, busy.asked)

    @work(thread=True, exclusive=True, group="store-later")
    def store_later(self, command: Any, asked: str | None) -> None:
        try:
            made = self.d.do(command, asked=asked)
        except E.EngineError as exc:
            self.app.call_on_screen(self, self.stored_later, command, None, str(exc))
        except DialogueError as exc:
            self.app.call_on_screen(self, self.stored_later, command, None, exc)
        else:
            self.app.call_on_screen(self, self.stored_later, command, made, None)

    def stored_later(self, command: Any, made: list[E.Event] | None, problem: str | DialogueError | None) -> None:
        self.pending = None
        box = self.query_one(AnswerBox)
        box.read_only = False
        if made is None:
            if isinstance(problem, DialogueError):
                self.not_stored(problem)
            else:
                self.notify(str(problem), severity="warning", markup=False)
            self.refresh_panels()
            return
        if isinstance(command, E.Answer | E.AddNote) and box.text == command.text:
            box.clear()  # (a note: the box's text, kept before leaving its question)
            if isinstance(command, E.AddNote):
                self.notify(self.kept_notice(command.qid), markup=False, timeout=6)
        self.after(made)
        self.notify(FREE_AGAIN, timeout=4)

    def not_stored(self, exc: DialogueError) -> None:
        """The database did not take it: say why and where the text is kept; the box keeps it too."""
        again = "Det du skrev finns kvar på skärmen; försök igen när felet är åtgärdat."
        if isinstance(exc, Unsaved) and exc.recovery is not None:
            again = f"Det du skrev finns kvar på skärmen och i {exc.recovery}; försök igen när felet är åtgärdat."
        self.notify(f"{exc} {again}", title="Inte sparat", severity="error", markup=False, timeout=30)

    def after(self, made: list[E.Event]) -> None:
        for notice in self.d.notices:
            self.notify(notice, title="Ändrat i ett annat fönster", severity="warning", markup=False, timeout=20)
        for notice in E.notices(made):
            self.notify(notice, title="Personnummer", severity="warning", markup=False, timeout=10)
        chat = self.query_one(ChatView)
        new = chatlog.messages(self.d.state, self.d.caught_up + made, self.tracker)
        if made and self.d.state.current is None and not self.d.state.finished:
            new.append(chatlog.Msg("system", Content(self.nothing_to_answer())))
        chat.add(new)
        self.refresh_panels()

    def nothing_to_answer(self) -> str:
        return E.nothing_to_answer(self.d.state, key_hint)

    # ------------------------------------------------------------ panels

    def key_applies(self, when: str) -> bool:
        """Whether a verb's ``when`` holds now (the key bar and palette show it then; the key itself
        always works): something parked, suggestions, the panels hidden, open actions from last time."""
        if when == "parked":
            return bool(self.d.state.parked)
        if when == "suggestions":
            return bool(self.listed)
        if when == "panels":
            return self.has_class("-narrow") or self.has_class("show-panels")
        if when == "previous_actions":
            return self.previous is not None and bool(self.previous.open_actions)
        raise ValueError(f"unknown condition {when!r}")

    def suggestions_visible(self) -> bool:
        """Whether the suggestions panel is on screen: in a wide window unless F3 hid it, in a
        narrow one when F3 showed it."""
        return self.has_class("-narrow") == self.has_class("show-panels")

    def offer_shown(self) -> None:
        """Record the suggestions the panel shows as offered, once (``Dialogue.offer``): a refresh
        that shows the same ones writes nothing; with the panel hidden, nothing is offered yet."""
        if self.suggestions_visible():
            self.on_record(self.listed[:9])

    def on_record(self, shown: list[E.Suggestion]) -> None:
        """Suggestions put before the user, recorded as offered (not while a write waits for the database)."""
        if shown and self.pending is None:
            self.d.offer(shown)

    def on_resize(self) -> None:
        self.query_one(KeyBar).refresh()
        self.call_after_refresh(self.offer_shown)  # a wider window may show the panel now

    def refresh_panels(self) -> None:
        self.query_one(KeyBar).refresh()
        self.show_current_question()
        self.query_one(TopBar).set_right(self.clock_content())
        self.query_one("#areas", Static).update(self.areas_content())
        self.refresh_data()
        self.show_warnings()
        self.query_one("#status-line", Static).update(self.status_content())

    def areas_content(self) -> Content:
        parts: list = []
        st = self.d.state
        for a in self.d.coverage():
            mark = glossary.coverage_mark(a.status)
            style = {"complete": "$text-success", "touched": "$text-accent"}.get(a.status, "$text-warning")
            label = short_label(a)
            label = label if len(label) <= 14 else label[:13] + "…"
            line_style = "bold reverse" if a.current else ""
            parts.append((f"{mark} ", style + (" " + line_style if line_style else "")))
            parts.append((f"{label:<14} {a.answered:>2}/{a.total:<2} ", line_style))
            parts.append(("★" if a.focus else " ", "$text-accent"))
            spent = int(a.spent_seconds // 60)
            time_style = "$text-error" if a.overrun else "$text-muted"
            # The indent is a run of its own: a styled run's leading spaces get lost in some renderers.
            parts += ["\n  ", (f"{spent}/{a.minutes} min" + ("  (avslutat)" if a.ended else ""), time_style), "\n"]
            for x in a.exercises:
                if x.answered:
                    parts += [("  " + plain_line(x.title, 16).plain + f" {x.answered}/{x.total}\n", "$text-muted")]
        parts.append((f"\nParkerade: {len(st.parked)}", "$text-warning" if st.parked else ""))
        parts.append(f"\nAnteckningar: {len(st.notes)}")
        parts.append(f"\nÅtgärder: {len(st.actions)}")
        if any(a.focus for a in self.d.coverage()):
            parts.append(("\n★ fokusområde", "$text-muted"))
        return Content.assemble(*parts)

    def status_content(self) -> Content:
        """A one-line summary, shown instead of the side panels in narrow windows."""
        parts: list = []
        for a in self.d.coverage():
            mark = glossary.coverage_mark(a.status)
            parts.append((f"{a.area or a.label[:3]}{mark} ", "bold" if a.current else ""))
        st = self.d.state
        if st.parked:
            parts.append(f"· Parkerade {len(st.parked)} ")
        if self.listed:
            how = f"{key_hint('accept')} tar, {key_hint('suggestions')} listar"
            parts.append((f"· Förslag {len(self.listed)} ({how})", "$text-accent"))
        return Content.assemble(*parts)

    def refresh_data(self) -> None:
        flags_view = self.query_one("#flags", Static)
        if not self.flags_ready:
            return
        overview = self.d.data_overview()
        if overview.empty:
            flags_view.update(Content.styled(overview.empty, "$text-muted"))
        else:
            parts: list = []
            for f in overview.flags:
                labels = getattr(f, "state_labels", None) or []
                parts += [flag_mark(f), " ", plain(f.label + " ", "bold"), (f"{f.period}\n", "$text-muted")]
                parts += [plain(flag_summary(f.text)), "\n"]
                if labels:
                    parts += [("(" + ", ".join(labels) + ")\n", "$text-muted")]
                parts.append("\n")
            if overview.small_note:
                parts.append((overview.small_note, "$text-muted"))
            flags_view.update(Content.assemble(*parts).rstrip())
        if not self.words_ready:
            self.query_one("#suggestions-empty", Static).update(Content("Förslagen läses in …"))
            return
        if self.d.state.finished:
            found = []
        else:  # while a write waits for a busy database, the list stands as it is
            found = self.d.suggestions() if self.pending is None else self.listed
        if [s.sid for s in found] != [s.sid for s in self.listed] or not self.query("#suggestions > SuggestionItem"):
            self.listed = found
            box = self.query_one("#suggestions", Vertical)
            box.remove_children()
            box.mount_all([SuggestionItem(i, s) for i, s in enumerate(found[:9], 1)])
        self.listed = found
        self.offer_shown()
        empty = self.query_one("#suggestions-empty", Static)
        how = f"{key_hint('accept')} tar förslag 1 · {key_hint('suggestions')} listar alla"
        empty.update(Content("Inga förslag just nu." if not found else how))

    def show_warnings(self) -> None:
        for w in self.warned.new(self.d.warnings()):
            self.notify(w, title="Tid", severity="warning", markup=False, timeout=12)

    # ------------------------------------------------------------ the answer box

    def show_current_question(self) -> None:
        """The question on screen, on the answer box's frame: it stays in view however far notes
        and actions push it up the conversation."""
        box = self.query_one(AnswerBox)
        current = self.d.state.current
        box.border_title = plain_line("Svar: " + current.text, 200) if current is not None else Content("Svar")

    def on_key(self, event: events.Key) -> None:
        """Typing reaches the answer box unless another input is deliberately focused: a key that
        bubbles up here found nothing focused to take it (a click on a button, say)."""
        if event.is_printable and event.character and not (self.app.focused is not None and event.key in ("space", "enter")):
            self.type_into_answer(event, event.character)

    def on_paste(self, event: events.Paste) -> None:
        self.type_into_answer(event, event.text)

    def type_into_answer(self, event: events.Key | events.Paste, text: str) -> None:
        """Text typed or pasted with nothing (or only a button) focused goes into the answer box."""
        focused = self.app.focused
        box = self.query_one(AnswerBox)
        if (focused is not None and not isinstance(focused, Button)) or box.read_only:
            return
        event.stop()
        event.prevent_default()
        box.focus()
        box.insert(text)

    def action_scroll_chat(self, pages: int) -> None:
        chat = self.query_one(ChatView)
        chat.scroll_to(y=chat.scroll_y + pages * max(1, chat.scrollable_content_region.height - 2), animate=False)

    @on(AnswerBox.Submitted, "#answer")
    def send(self, event: AnswerBox.Submitted) -> None:
        self.action_send()

    @on(Button.Pressed, "#older")
    def _older_shown(self) -> None:
        self.query_one(AnswerBox).focus()  # back to answering

    def action_send(self) -> None:
        box = self.query_one("#answer", AnswerBox)
        if self.d.state.current is None:
            self.notify(self.nothing_to_answer(), markup=False)
            return
        if not box.text.strip():
            skip = verbs.verb("skip")
            self.notify(f"Svaret är tomt. Skriv ett svar, eller {skip.help} med {skip.display}.", severity="warning")
            return
        if self.run(E.Answer(box.text)) is not None:
            box.clear()

    def action_newline(self) -> None:
        box = self.query_one("#answer", AnswerBox)
        box.focus()
        box.insert_newline()

    # ------------------------------------------------------------ text typed but not sent

    def draft(self) -> E.AddNote | None:
        """The answer box's unsent text as a note to the question on screen (None if the box is
        blank, or holds the text of a write that waits for a busy database)."""
        text = self.query_one(AnswerBox).text
        if not text.strip() or self.pending is not None:
            return None
        current = self.d.state.current
        return E.AddNote(text, qid=current.qid if current is not None else None)

    def kept_notice(self, qid: str | None) -> str:
        if qid is None:
            return "Texten i svarsrutan sparades som anteckning."
        return f"Texten i svarsrutan sparades som anteckning till frågan ”{one_line(E.prompt_text(self.d.state, qid), 80)}”."

    def keep_draft(self) -> bool:
        """Before the question on screen changes or the meeting ends: unsent text in the answer box
        is stored as a note to that question, the box emptied, and a notice says so. False if it is
        not stored (yet): the caller stays where it is, with the text in the box."""
        note = self.draft()
        if note is None:
            return True
        if self.run(note) is None:
            return False
        self.query_one(AnswerBox).clear()
        self.notify(self.kept_notice(note.qid), markup=False, timeout=6)
        return True

    def leave(self, command: Any) -> list[E.Event] | None:
        """Run a command that leaves the question on screen (skip, park, back, …), keeping what
        is typed first (``keep_draft``): only if the command fits, so a refused move keeps the text
        in the box."""
        refused = self.d.refusal(command) if self.draft() is not None else None
        if refused is not None:
            self.notify(refused, severity="warning", markup=False)
            return None
        if not self.keep_draft():
            return None
        return self.run(command)

    def keep_draft_before_exit(self) -> str:
        """Ctrl+Q: the box's unsent text stored as a note before the app exits, or in the recovery
        file if the database will not take it; the sentence the exit message says it with."""
        note = self.draft()
        if note is None:
            return ""
        try:
            self.d.do(note, patience=0, busy_timeout_ms=EXIT_WAIT_MS)
        except Unsaved as exc:
            where = exc.recovery
        except Busy as exc:
            where = self.d.keep(exc.command, exc.asked, "appen stängdes medan databasen var upptagen")
        except (E.EngineError, DialogueError) as exc:
            where = self.d.keep(note, note.qid, str(exc))
        else:
            return self.kept_notice(note.qid)
        kept = f"; den finns i {where}" if where is not None else ""
        return f"Texten i svarsrutan kunde inte sparas i dialogen{kept}."

    # ------------------------------------------------------------ navigation

    def action_skip(self) -> None:
        self.leave(E.Skip())

    def action_back(self) -> None:
        self.leave(E.Back())

    def action_park(self) -> None:
        if self.leave(E.Park()) is not None:
            self.notify(f"Parkerad. {len(self.d.state.parked)} på parkeringsplatsen.", timeout=3)

    def action_end_section(self) -> None:
        self.leave(E.EndSection())

    def action_jump(self) -> None:
        from assistant.tui.modals import PickerModal

        marks = {a.section: a for a in self.d.coverage()}
        options = []
        for s in E.visible_sections(self.d.state):
            a = marks.get(s.id)
            mark = glossary.coverage_mark(a.status) if a else " "
            count = f"  {a.answered}/{a.total}" if a else ""
            options.append((Content(f"{mark} {self.d.flow.section_label(s)}{count}"), s.id))
        self.app.push_screen(PickerModal("Gå till avsnitt", options), self._jumped)

    def _jumped(self, section: str | None) -> None:
        if section:
            self.leave(E.Jump(section))
        self.query_one(AnswerBox).focus()

    def action_return_parked(self) -> None:
        from assistant.tui.modals import PickerModal

        parked = list(self.d.state.parked)
        if not parked:
            self.notify("Parkeringsplatsen är tom.")
            return
        if len(parked) == 1:
            self.leave(E.ReturnToParked(parked[0]))
            return
        options = [(plain_line(E.prompt_text(self.d.state, q), 90), q) for q in parked]
        self.app.push_screen(PickerModal("Parkerade frågor", options), self._returned)

    def _returned(self, qid: str | None) -> None:
        if qid:
            self.leave(E.ReturnToParked(qid))
        self.query_one(AnswerBox).focus()

    # ------------------------------------------------------------ notes and actions

    def action_note(self) -> None:
        from assistant.tui.modals import NoteModal

        self.app.push_screen(NoteModal(self._save_note), lambda _: self.query_one(AnswerBox).focus())

    def save_from_modal(self, command: Any) -> tuple[list[E.Event] | None, str | None]:
        """Store a note or an action typed in a modal: (events, None), or (None, the error to show
        in the modal, which stays open with the text). A busy database is waited for in a worker
        (the modal closes; the text is safe there and in the recovery file if it never frees up)."""
        if self.pending is not None:
            return None, STILL_WAITING
        try:
            made = self.d.do(command, patience=0, busy_timeout_ms=FIRST_TRY_MS)
        except E.EngineError as exc:
            return None, str(exc)
        except Busy as exc:
            self.wait_for_database(exc)
            return None, None
        except DialogueError as exc:
            where = f" Texten finns också i {exc.recovery}." if isinstance(exc, Unsaved) and exc.recovery else ""
            return None, f"{exc}{where}"
        self.after(made)
        return made, None

    def _save_note(self, text: str) -> str | None:
        made, error = self.save_from_modal(E.AddNote(text))
        if made is not None:
            self.notify("Anteckningen är sparad.", timeout=3)
        return error

    def action_action(self) -> None:
        from assistant.tui.modals import ActionModal

        names = list(self.d.state.roles)
        self.app.push_screen(ActionModal(self._save_action, names), lambda _: self.query_one(AnswerBox).focus())

    def _save_action(self, text: str, owner: str, due: str) -> str | None:
        made, error = self.save_from_modal(E.AddAction(text, owner or None, due or None))
        if made is not None:
            action = list(self.d.state.actions.values())[-1]
            self.notify(f"Åtgärd {action.action_id} är sparad.", timeout=3)
        return error

    # ------------------------------------------------------------ suggestions

    def accept(self, sid: str) -> None:
        suggestion = next((s for s in self.listed if s.sid == sid), None)
        if suggestion is not None:
            self.on_record([suggestion])  # taken from the list or blind with Ctrl+T: on record first
        if suggestion is not None and suggestion.action:
            self.make_action(suggestion)
            return
        self.leave(E.Accept(sid))  # the suggestion is the next question
        self.query_one(AnswerBox).focus()

    def make_action(self, suggestion: E.Suggestion) -> None:
        """"Gör om till åtgärd": the action gets its owner and date before it is saved."""
        from assistant.tui.modals import ActionModal

        def save(text: str, owner: str, due: str) -> str | None:
            try:
                made = self.d.do(E.Accept(suggestion.sid, owner=owner or None, due=due or None, text=text))
            except E.EngineError as exc:
                return str(exc)
            self.after(made)
            self.notify("Förslaget blev en åtgärd.", timeout=3)
            return None

        modal = ActionModal(save, list(self.d.state.roles), title="Gör om till åtgärd", text=suggestion.text or "")
        self.app.push_screen(modal, lambda _: self.query_one(AnswerBox).focus())

    # ------------------------------------------------------------ the previous dialogue's actions

    def action_previous_actions(self) -> None:
        from assistant.report import local_today
        from assistant.tui.modals import PickerModal

        prev = self.previous
        if prev is None or not prev.open_actions:
            self.notify("Det finns inga öppna åtgärder från förra dialogen.")
            return
        today = local_today(self.app.clock())
        options = []
        for a in prev.open_actions:
            late = E.action_overdue(a["status"], a.get("due"), today)
            mark = "☑" if a["status"] == "done" else ("⚠" if late else "☐")
            extra = ", ".join(str(x) for x in (a.get("owner"), a.get("due")) if x)
            label = Content.assemble(f"{mark} ", plain_line(a["text"], 70), (f"  {extra}" if extra else "", "$text-muted"),
                                     (" försenad" if late else "", "$text-error"))
            options.append((label, a))
        self.app.push_screen(
            PickerModal("Åtgärder från förra dialogen", options, "Enter väljer åtgärden · Esc stänger"), self._previous_picked
        )

    def _previous_picked(self, action: dict | None) -> None:
        from assistant.tui.modals import ActionModal, PickerModal

        if not action:
            self.query_one(AnswerBox).focus()
            return
        done = action["status"] == "done"
        choices = [
            (Content("Markera som öppen igen" if done else "Markera som klar"), "toggle"),
            (Content("Ändra ansvarig och datum"), "edit"),
        ]

        def chosen(what: str | None) -> None:
            if what == "toggle":
                error = self._update_previous(action, E.UpdateAction(action["action_id"], status="open" if done else "done"))
                if error:
                    self.notify(error, severity="warning", markup=False)
                else:
                    self.notify("Åtgärden är " + ("öppen igen." if done else "klar."), timeout=3)
                self.query_one(AnswerBox).focus()
            elif what == "edit":
                def save(_text: str, owner: str, due: str) -> str | None:
                    return self._update_previous(action, E.UpdateAction(action["action_id"], owner=owner, due=due))

                modal = ActionModal(save, title="Ändra åtgärd", text=action["text"], owner=action.get("owner") or "",
                                    due=action.get("due") or "", edit=True)
                self.app.push_screen(modal, lambda _: self.query_one(AnswerBox).focus())
            else:
                self.query_one(AnswerBox).focus()

        self.app.push_screen(PickerModal(plain_line(action["text"], 60).plain, choices), chosen)

    def _update_previous(self, action: dict, command: E.UpdateAction) -> str | None:
        from assistant.continuity import update_previous_action
        from assistant.session import DialogueError

        try:
            owner, _ = update_previous_action(self.app.store, action, command, via=self.d.id)
        except (E.EngineError, DialogueError) as exc:
            return str(exc)
        updated = owner.state.actions[action["action_id"]]
        action.update(status=updated.status, owner=updated.owner, due=updated.due)
        if self.previous is not None:
            self.query_one(ChatView).replace_previous(self.previous_message(self.previous))
        return None

    def dismiss_suggestion(self, sid: str) -> None:
        self.on_record([s for s in self.listed if s.sid == sid])
        if self.run(E.Dismiss(sid)) is not None:
            self.notify("Förslaget avböjt.", timeout=3)
        self.query_one(AnswerBox).focus()

    def action_accept_first(self) -> None:
        self.accept_number(1)

    def accept_number(self, n: int) -> None:
        if not (self.flags_ready and self.words_ready):
            self.notify("Data läses fortfarande in …")
            return
        if n > len(self.listed):
            self.notify("Inga förslag just nu." if not self.listed else f"Det finns bara {len(self.listed)} förslag.")
            return
        self.accept(self.listed[n - 1].sid)

    def action_suggestions(self) -> None:
        from assistant.tui.modals import SuggestionsModal

        if not self.listed:
            self.notify("Inga förslag just nu.")
            return
        self.on_record(self.listed)  # the list shows them all
        self.app.push_screen(SuggestionsModal(self.listed), self._suggestion_chosen)

    def _suggestion_chosen(self, choice: tuple[str, str] | None) -> None:
        if not choice:
            self.query_one(AnswerBox).focus()
            return
        what, sid = choice
        if what == "accept":
            self.accept(sid)
        else:
            self.dismiss_suggestion(sid)

    def action_take(self, sid: str) -> None:
        """A click on "Ta" in the suggestions panel."""
        self.accept(sid)

    def action_decline(self, sid: str) -> None:
        """A click on "Avböj" in the suggestions panel."""
        self.dismiss_suggestion(sid)

    # ------------------------------------------------------------ finishing

    def action_finish(self) -> None:
        from assistant.tui.modals import ConfirmModal

        untouched = [a.label for a in self.d.coverage() if not a.touched]
        detail = "Ni kan fortfarande rätta svar och exportera efteråt."
        if self.draft() is not None:
            detail = "Texten i svarsrutan, som inte är skickad, sparas som anteckning till frågan. " + detail
        if untouched:
            detail = "Ej berört ännu: " + ", ".join(untouched) + ". " + detail
        self.app.push_screen(
            ConfirmModal("Avsluta dialogen?", detail, yes="Avsluta dialogen", no="Fortsätt dialogen", safe="no"),
            self._finish_confirmed,
        )

    def _finish_confirmed(self, yes: bool | None) -> None:
        if not yes:
            self.query_one(AnswerBox).focus()
            return
        if self.leave(E.Finish()) is None:
            return
        ref = self.d.id
        self.app.pop_screen()
        from assistant.tui.archive import TranscriptScreen

        self.app.push_screen(TranscriptScreen(ref, offer_export=True))

    def action_toggle_panels(self) -> None:
        self.toggle_class("show-panels")
        self.offer_shown()

    def action_data_view(self) -> None:
        if not self.flags_ready:
            self.notify("Data läses fortfarande in …", timeout=3)
            return
        from assistant.tui.dataview import DataScreen

        self.app.push_screen(DataScreen(self.d.clinic, self.d.flags()))

    # ------------------------------------------------------------ the palette

    def palette_commands(self):
        """The verbs of the dialogue (``assistant/verbs.py``, with their keys as bound), then going to
        each area and taking or declining each suggestion."""
        yield from palette_entries(verbs.DIALOGUE, self, self.key_applies)
        for s in E.visible_sections(self.d.state):
            label = escape(self.d.flow.section_label(s))  # the palette reads markup
            yield f"Gå till {label}", "Hoppa direkt till avsnittet", (lambda sid=s.id: self.leave(E.Jump(sid)))
        for i, s in enumerate(self.listed[:9], 1):
            # The palette reads names and help as markup: user text is escaped (and made terminal-safe).
            title = escape(plain_line(s.title, 60).plain)
            reason = escape(plain_line(s.reason, 120).plain)
            yield f"Ta förslag {i}: {title}", reason, (lambda sid=s.sid: self.accept(sid))
            # Declining is searched for ("avböj"), not offered first in the empty palette (A sorts first).
            yield f"Avböj förslag {i}: {title}", reason, (lambda sid=s.sid: self.dismiss_suggestion(sid)), False
