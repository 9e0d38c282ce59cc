"""Modal dialogs: note, action, pickers, confirmation, export, correction, and the help screen."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, OptionList, RadioButton, Select, Static
from textual.widgets.option_list import Option

from assistant.tui.keys import HELP_SECTIONS
from assistant.tui.text import option, plain
from assistant.tui.widgets import AnswerBox, ChoiceSet
from assistant.verbs import key_hint

Saver = Callable[..., "str | None"]  # returns an error message to show, or None when saved


class DialogBody(VerticalScroll):
    """What lies between a dialog's title and its buttons, scrolling in a small window. Tab stops
    here only when there is something to scroll: a body that fits is no invisible stop between the
    buttons (Enter on it did nothing, and no button looked focused)."""

    def allow_focus(self) -> bool:
        return super().allow_focus() and self.max_scroll_y > 0


class Modal(ModalScreen):
    """A modal with a title, a body and Esc to cancel."""

    BINDINGS = [Binding("escape", "cancel", "Avbryt")]
    DEFAULT_CLASSES = "modal"

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def saved_or_error(self, error: str | None) -> None:
        """Close when saving worked; otherwise show why (as plain text) and stay open."""
        if error:
            self.query_one("#error", Static).update(Content(error))
        else:
            self.dismiss(True)


class ConfirmModal(Modal):
    """A yes/no question. ``safe="no"`` for a step that cannot simply be undone (ending the
    meeting): the safe button has the focus, so Enter does not take the step."""

    BINDINGS = [Binding("escape", "cancel", "Avbryt"), Binding("j", "yes", "Ja", show=False)]

    def __init__(self, question: str, detail: str = "", yes: str = "Ja", no: str = "Avbryt", *, safe: str = "yes") -> None:
        super().__init__()
        self.question, self.detail, self.yes, self.no = question, detail, yes, no
        self.safe = safe

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.question, "bold"), classes="dialog-title")
            if self.detail:
                with DialogBody(classes="dialog-body"):
                    yield Static(Content(self.detail), classes="muted")
            with Horizontal(classes="buttons"):
                yield Button(self.yes, id="yes", variant="default" if self.safe == "no" else "primary")
                yield Button(self.no, id="no", variant="primary" if self.safe == "no" else "default")

    def on_mount(self) -> None:
        self.query_one("#no" if self.safe == "no" else "#yes", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One key ("j") answers yes only where yes is the safe answer: a facilitator who pressed F9
        # by mistake and goes on typing ("jag …") must not end the meeting with the first letter.
        return not (action == "yes" and self.safe == "no")

    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)


class NoteModal(Modal):
    """A note: Enter saves, Ctrl+J adds a line, Esc cancels."""

    def __init__(self, save: Saver, title: str = "Anteckning") -> None:
        super().__init__()
        self.save = save
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), classes="dialog-title")
            with DialogBody(classes="dialog-body"):
                yield AnswerBox(placeholder=f"Skriv anteckningen – Enter sparar, {key_hint('newline')} ny rad", id="note-text")
                yield Static("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Spara", id="save", variant="primary")
                yield Button("Avbryt", id="cancel")

    def on_mount(self) -> None:
        self.query_one(AnswerBox).focus()

    @on(AnswerBox.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.saved_or_error(self.save(self.query_one(AnswerBox).text))


class ActionModal(Modal):
    """An action with owner and due date: a new one, one a suggestion proposes ("gör om till
    åtgärd": ``text`` filled in), or an existing one whose owner and date change (``edit``)."""

    def __init__(
        self,
        save: Saver,
        names: Sequence[str] = (),
        *,
        title: str = "Ny åtgärd",
        text: str = "",
        owner: str = "",
        due: str = "",
        edit: bool = False,
    ) -> None:
        super().__init__()
        self.save = save
        self.names = list(names)
        self.title_text, self.text, self.owner, self.due, self.edit = title, text, owner, due, edit

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), classes="dialog-title")
            with DialogBody(classes="dialog-body"):
                yield Label("Vad ska göras?")
                yield Input(self.text, placeholder="t.ex. Se över telefontiderna", id="action-text", disabled=self.edit)
                yield Label("Ansvarig")
                yield Input(
                    self.owner,
                    placeholder="namn (valfritt)",
                    id="action-owner",
                    suggester=SuggestFromList(self.names, case_sensitive=False) if self.names else None,
                )
                yield Label("Klart senast")
                yield Input(self.due, placeholder="ÅÅÅÅ-MM-DD (valfritt)", id="action-due", max_length=10)
                yield Static("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Spara", id="save", variant="primary")
                yield Button("Avbryt", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#action-owner" if self.edit or self.text else "#action-text", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        text = self.query_one("#action-text", Input).value
        owner = self.query_one("#action-owner", Input).value
        due = self.query_one("#action-due", Input).value
        error = self.save(text, owner, due)
        self.saved_or_error(error)


REVIEW_CHOICES = (
    ("sent", "Skickad – dokumentationen skickad för granskning"),
    ("commented", "Kommenterad – kommentarer eller rättelser kom tillbaka"),
    ("approved", "Godkänd"),
)


class ReviewModal(Modal):
    """A step of the documentation's review: status, who, and (for comments) what was said."""

    def __init__(self, save: Saver, current: str | None = None) -> None:
        super().__init__()
        self.save = save
        order = [k for k, _ in REVIEW_CHOICES]
        self.start = min(order.index(current) + 1, len(order) - 1) if current in order else 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Content.styled("Granskning av dokumentationen", "bold"), classes="dialog-title")
            with DialogBody(classes="dialog-body"):
                with ChoiceSet(id="review-status", compact=True):
                    for i, (_, label) in enumerate(REVIEW_CHOICES):
                        yield RadioButton(Content(label), value=i == self.start)
                yield Input(placeholder="Vem? (valfritt)", id="review-who", compact=True)
                yield AnswerBox(placeholder="Kommentar eller rättelse (krävs för Kommenterad) – Enter sparar", id="review-note")
                yield Static("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Spara", id="save", variant="primary")
                yield Button("Avbryt", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#review-status", ChoiceSet).focus()

    @on(AnswerBox.Submitted)
    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        index = max(self.query_one("#review-status", ChoiceSet).pressed_index, 0)
        status = REVIEW_CHOICES[index][0]
        self.saved_or_error(self.save(status, self.query_one("#review-who", Input).value, self.query_one(AnswerBox).text))


class PickerModal(Modal):
    """Pick one of a list (Enter or a click); digits 1–9 pick directly."""

    def __init__(self, title: str, options: Sequence[tuple[Content, Any]], hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.options = list(options)
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Content.styled(self.title_text, "bold"), classes="dialog-title")
            yield OptionList(*[Option(label, id=str(i)) for i, (label, _) in enumerate(self.options)], id="picker")
            yield Static(Content(self.hint or "Enter väljer · 1–9 väljer direkt · Esc avbryter"), classes="muted")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event) -> None:
        if event.key.isdigit() and event.key != "0":
            index = int(event.key) - 1
            if index < len(self.options):
                event.stop()
                self.dismiss(self.options[index][1])

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.options[int(event.option.id or 0)][1])


class SuggestionsModal(Modal):
    """The open suggestions: Enter takes the highlighted one, Delete (or x) dismisses it."""

    BINDINGS = [
        Binding("escape", "cancel", "Stäng"),
        Binding("delete,x", "dismiss_highlighted", "Avböj"),
        Binding("enter", "take_highlighted", "Ta", show=False),
    ]

    def __init__(self, suggestions: Sequence[Any]) -> None:
        super().__init__()
        self.suggestions = list(suggestions)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Content.styled("Förslag på följdfrågor", "bold"), classes="dialog-title")
            options = []
            for i, s in enumerate(self.suggestions, 1):
                options.append(
                    Option(
                        Content.assemble((f"{i}. ", "bold"), plain(s.title, "bold"), "\n   ", plain(s.reason, "italic")),
                        id=str(i - 1),
                    )
                )
            yield OptionList(*options, id="picker")
            yield Static(
                Content("Enter eller 1–9 tar förslaget som nästa fråga · Delete/x avböjer · Esc stänger"),
                classes="muted",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event) -> None:
        if event.key.isdigit() and event.key != "0":
            index = int(event.key) - 1
            if index < len(self.suggestions):
                event.stop()
                self.dismiss(("accept", self.suggestions[index].sid))

    def _highlighted(self) -> Any | None:
        index = self.query_one(OptionList).highlighted
        return None if index is None else self.suggestions[index]

    def action_take_highlighted(self) -> None:
        s = self._highlighted()
        if s is not None:
            self.dismiss(("accept", s.sid))

    def action_dismiss_highlighted(self) -> None:
        s = self._highlighted()
        if s is not None:
            self.dismiss(("dismiss", s.sid))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(("accept", self.suggestions[int(event.option.id or 0)].sid))


EXPORT_FORMATS = (
    ("html", "HTML – att läsa och skriva ut i webbläsaren"),
    ("docx", "Word (docx) – dokumentationsmallen"),
    ("md", "Markdown – ren text"),
    ("json", "JSON – hela händelseloggen"),
    ("pack-html", "Underlag inför mötet (HTML) – data, förra årets åtgärder, plan"),
    ("pack-docx", "Underlag inför mötet (Word)"),
)
REGION_FORMATS = (
    ("html", "HTML – att läsa och skriva ut i webbläsaren"),
    ("docx", "Word (docx)"),
    ("md", "Markdown – ren text"),
    ("json", "JSON – alla mottagningar med siffror"),
)


class ExportModal(Modal):
    """Choose a format (the highlighted one is the one exported: Enter, a click or Exportera) and
    the folder – the export folder unless another is picked ("Byt mapp …"). Returns (fmt, folder)."""

    def __init__(
        self,
        folder: str,
        formats: Sequence[tuple[str, str]] = EXPORT_FORMATS,
        title: str = "Exportera dialogen",
    ) -> None:
        super().__init__()
        self.folder = folder
        self.formats = list(formats)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Content.styled(self.title_text, "bold"), classes="dialog-title")
            with DialogBody(classes="dialog-body"):
                yield Label("Format (pilarna väljer, Enter exporterar)")
                yield OptionList(*[Option(Content(label), id=fmt) for fmt, label in self.formats], id="format")
                yield Label("Spara i")
                with Horizontal(classes="row"):
                    yield Static(plain(self.folder), id="folder", markup=False)
                    yield Button("Byt mapp …", id="pick-folder", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Exportera", id="export", variant="primary")
                yield Button("Avbryt", id="cancel")

    def on_mount(self) -> None:
        formats = self.query_one("#format", OptionList)
        formats.highlighted = 0
        formats.focus()

    @property
    def chosen_format(self) -> str:
        index = self.query_one("#format", OptionList).highlighted
        return self.formats[index if index is not None else 0][0]

    @on(OptionList.OptionSelected, "#format")
    @on(Button.Pressed, "#export")
    def _export(self) -> None:
        self.dismiss((self.chosen_format, self.folder))

    @on(Button.Pressed, "#pick-folder")
    def _pick_folder(self) -> None:
        from assistant.tui.pickers import FolderPicker, start_folder

        self.app.push_screen(FolderPicker(start_folder(self.folder)), self._folder_picked)

    def _folder_picked(self, folder) -> None:
        if folder is not None:
            self.folder = str(folder)
            self.query_one("#folder", Static).update(plain(self.folder))
        self.query_one("#export", Button).focus()


class ChoiceModal(Modal):
    """A question with a few answers as buttons; ``default`` has the focus (the safe one). Returns
    the chosen value, or None (Esc, Avbryt)."""

    def __init__(self, question: str, detail: str, choices: Sequence[tuple[str, Any]], default: Any) -> None:
        super().__init__()
        self.question, self.detail, self.choices, self.default = question, detail, list(choices), default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.question, "bold"), classes="dialog-title")
            with DialogBody(classes="dialog-body"):
                yield Static(plain(self.detail), classes="muted", markup=False)
            with Horizontal(classes="buttons"):
                for i, (label, value) in enumerate(self.choices):
                    yield Button(label, id=f"choice-{i}", variant="primary" if value == self.default else "default")
                yield Button("Avbryt", id="cancel")

    def on_mount(self) -> None:
        index = next((i for i, (_, v) in enumerate(self.choices) if v == self.default), 0)
        self.query_one(f"#choice-{index}", Button).focus()
        self.call_after_refresh(self.fit_buttons)

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_buttons)

    def fit_buttons(self) -> None:
        """Long answers ("Använd ”Fysio Söder (påhittad)”") do not fit side by side at 80×24: then
        the buttons stand one under the other, one line each, so none is cut off."""
        row = self.query_one(".buttons", Horizontal)
        buttons = list(row.query(Button))
        side_by_side = sum(max(16, len(str(b.label)) + 4) + 1 for b in buttons)
        stacked = side_by_side > self.query_one(".dialog").content_region.width
        row.set_class(stacked, "-stacked")
        for b in buttons:
            b.compact = stacked

    @on(Button.Pressed, ".buttons Button")
    def _chosen(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("choice-"):
            self.dismiss(self.choices[int(event.button.id.removeprefix("choice-"))][1])


class CorrectModal(Modal):
    """Correct an answer after the meeting: pick the question, edit the text, say who."""

    def __init__(self, save: Saver, questions: Sequence[tuple[str, str, str]], who: str = "") -> None:
        super().__init__()
        self.save = save
        self.questions = list(questions)  # (qid, question text, current answer)
        self.who = who

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Content.styled("Rätta ett svar", "bold"), classes="dialog-title")
            with DialogBody(classes="dialog-body"):
                yield Static(
                    Content("Rättelsen sparas som en egen händelse; det tidigare svaret finns kvar i loggen."),
                    classes="muted",
                )
                yield Select(
                    [(option(q, 90), qid) for qid, q, _ in self.questions],
                    prompt="Välj fråga",
                    id="question",
                    allow_blank=False,
                )
                yield AnswerBox(
                    self.questions[0][2] if self.questions else "",
                    placeholder=f"Den rättade texten – Enter sparar, {key_hint('newline')} ny rad",
                    id="correct-text",
                )
                yield Input(value=self.who, placeholder="Vem rättar? (valfritt)", id="who")
                yield Static("", id="error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Spara rättelsen", id="save", variant="primary")
                yield Button("Avbryt", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#question", Select).focus()

    @on(Select.Changed, "#question")
    def _changed(self, event: Select.Changed) -> None:
        for qid, _, answer in self.questions:
            if qid == event.value:
                self.query_one(AnswerBox).load_text(answer)

    @on(AnswerBox.Submitted)
    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        qid = self.query_one("#question", Select).value
        if qid is Select.NULL:
            self.saved_or_error("Välj en fråga.")
            return
        self.saved_or_error(self.save(qid, self.query_one(AnswerBox).text, self.query_one("#who", Input).value))


class HelpScreen(Modal):
    """F1: every key, in Swedish."""

    BINDINGS = [Binding("escape,f1,q", "cancel", "Stäng")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Static(Content.styled("Hjälp – tangenter", "bold"), classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(help_content(), id="help-text")
            yield Static(
                Content(
                    "Allt sparas medan ni skriver: stäng när som helst och fortsätt sedan från startsidan. "
                    "Markera text med musen för att kopiera. Esc stänger hjälpen."
                ),
                classes="muted",
            )


def help_content() -> Content:
    parts: list[Content | str | tuple[str, str]] = []
    for title, table in HELP_SECTIONS:
        parts.append((title + "\n", "bold $text-accent"))
        for v in table:
            if v.keys:  # (the line mode's own commands are in its /hjälp)
                parts.append((f"  {v.display:<24}", "bold"))
                parts.append(f" {v.app_help}\n")
        parts.append("\n")
    from assistant import glossary

    parts.append(("Ord\n", "bold $text-accent"))
    parts.append(f"  {glossary.coverage_legend()}\n")
    for t in glossary.GLOSSARY:
        parts.append((f"  {t.word}", "bold"))
        parts.append(f": {t.means}\n")
    return Content.assemble(*parts).rstrip()
