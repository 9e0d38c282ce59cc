"""Every key of the app in one place: the bindings, the footer, the help screen (F1) and the palette.

Keys were chosen for what terminals actually deliver:
- Enter sends. Most terminals send the same code for Shift+Enter and Alt+Enter as for Enter, so a
  new line in an answer is Ctrl+J (a line feed, which every terminal sends); Shift+Enter and
  Alt+Enter also work where the terminal tells them apart (kitty keyboard protocol).
- Alt+digit is not used for anything important: without the kitty protocol Textual reads Alt+1 as
  "¡" (and Alt+6 as "§", a key on Swedish keyboards). Ctrl+T takes the top suggestion, Ctrl+F lists
  them all.
- Ctrl+K, Ctrl+A and Ctrl+E are text-editing keys in Textual's TextArea (delete to end of line,
  line start, line end); the answer box (``AnswerBox``) leaves them out so that they mean
  Parkera, Åtgärd and Avsnitt klart. Home and End still move in the answer box.
- Ctrl+B is tmux's prefix: inside tmux press Ctrl+B twice, or use the command palette (Ctrl+P).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    key: str  # Textual key names, comma separated
    action: str
    label: str  # footer label
    help: str  # help screen / palette text
    show: bool = True
    priority: bool = False
    bind: bool = True  # False: listed in the help only (bound another way)
    rank: int = 50  # the key bar keeps the lowest ranks when not every key fits (F1 is always kept)

    def binding(self):
        from textual.binding import Binding

        return Binding(self.key, self.action, self.label, show=self.show, priority=self.priority)

    @property
    def display(self) -> str:
        return " / ".join(_display(k) for k in self.key.split(","))


def _display(key: str) -> str:
    parts = key.strip().split("+")
    names = {"ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "enter": "Enter", "escape": "Esc", "pageup": "PgUp", "pagedown": "PgDn"}
    return "+".join(names.get(p, p.upper() if len(p) <= 3 else p.capitalize()) for p in parts)


APP_KEYS = (
    Key("f1", "app.help", "Hjälp", "visa alla tangenter"),
    Key("ctrl+p", "app.command_palette", "Kommandon", "kommandopaletten: alla funktioner", show=False, priority=True),
    Key("f2", "app.toggle_dark", "Tema", "växla ljust/mörkt tema", show=False),
    Key("ctrl+q", "app.quit", "Stäng", "stäng appen – allt är redan sparat", priority=True, rank=80),
)

START_KEYS = (
    Key("n", "new", "Ny dialog", "starta eller förbered en ny dialog"),
    Key("t", "archive", "Tidigare", "tidigare dialoger: sök, läs, exportera, rätta"),
    Key("r", "region", "Regionöversikt", "alla mottagningar: dialoger, granskning, åtgärder, teman och data"),
    Key("i", "import", "Importera data", "importera indikatordata (CSV eller .xlsx)"),
    Key("d", "demo", "Demodata", "importera de påhittade demodata", show=False),
    Key("enter", "", "Fortsätt", "fortsätt den markerade dialogen", show=False, bind=False),
    Key("1,2,3,4,5,6,7,8,9", "", "Fortsätt", "fortsätt dialog nummer 1–9 i listan", show=False, bind=False),
)

# The dialogue's keys in the order the key bar shows them; ``rank`` says which matter most when the
# window is too narrow for all (Enter and Ctrl+J are said in the answer box itself). Keys that only
# apply now and then (Ctrl+R with something parked, Ctrl+T/Ctrl+F with suggestions, F3 while the
# panels are hidden, F5 with open actions from last time) are shown only then (``key_shown``).
DIALOGUE_KEYS = (
    Key("enter", "send", "Skicka", "skicka svaret", rank=90),
    Key("ctrl+j", "newline", "Ny rad", "ny rad i svaret (även Shift+Enter/Alt+Enter där terminalen skiljer på dem)", rank=95),
    Key("ctrl+s", "skip", "Hoppa", "hoppa över frågan", rank=10),
    Key("ctrl+g", "jump", "Gå till", "gå till ett avsnitt", rank=15),
    Key("f3", "toggle_panels", "Paneler", "visa/dölj sidopanelerna (smala fönster)", rank=12),
    Key("ctrl+n", "note", "Anteckning", "skriv en anteckning", rank=20),
    Key("ctrl+a", "action", "Åtgärd", "lägg till en åtgärd med ansvarig och datum", rank=25),
    Key("ctrl+t", "accept_first", "Ta förslag", "ta det översta förslaget som nästa fråga", rank=30),
    Key("ctrl+f", "suggestions", "Förslag", "lista förslagen: ta eller avböj", rank=35),
    Key("ctrl+k", "park", "Parkera", "parkera frågan till senare", rank=40),
    Key("ctrl+r", "return_parked", "Parkerade", "ta upp en parkerad fråga", rank=32),
    Key("ctrl+b", "back", "Tillbaka", "tillbaka till förra frågan (i tmux: Ctrl+B två gånger)", rank=60),
    Key("ctrl+e", "end_section", "Avsnitt klart", "avsluta avsnittet och gå vidare", rank=70),
    Key("f4", "data_view", "Data", "mottagningens data med trattdiagram och serie över tid", rank=65),
    Key("f5", "previous_actions", "Förra dialogen", "åtgärder från förra dialogen: markera klar, ändra ansvarig och datum", rank=45),
    Key("f9", "finish", "Avsluta", "avsluta dialogen (bekräftas), sedan export", rank=28),
    Key("pageup", "scroll_chat(-1)", "Bläddra upp", "bläddra uppåt i samtalet", show=False),
    Key("pagedown", "scroll_chat(1)", "Bläddra ned", "bläddra nedåt i samtalet", show=False),
)

ARCHIVE_KEYS = (
    Key("escape", "back", "Tillbaka", "tillbaka till startsidan"),
    Key("ctrl+f", "focus_search", "Sök", "fritextsök i alla dialoger (avvik* söker på ordbörjan)"),
    Key("enter", "open", "Öppna", "öppna dialogen", show=False),
)

TRANSCRIPT_KEYS = (
    Key("escape", "back", "Tillbaka", "tillbaka"),
    Key("e", "export", "Exportera", "exportera: md, html, docx eller json"),
    Key("r", "correct", "Rätta svar", "rätta ett svar (sparas som rättelse)"),
    Key("k", "toggle_action", "Åtgärd klar/öppen", "markera vald åtgärd som klar eller öppen igen"),
    Key("o", "edit_action", "Ansvarig/datum", "ändra ansvarig och datum för vald åtgärd"),
    Key("g", "review", "Granskning", "registrera granskningen: skickad, kommenterad, godkänd"),
    Key("f", "continue", "Fortsätt dialogen", "öppna dialogen och fortsätt"),
)

DATA_KEYS = (
    Key("escape", "back", "Tillbaka", "tillbaka till dialogen"),
    Key("v", "switch", "Växla bild", "växla mellan trattdiagram och serie över tid (låga fönster)"),
)

NEW_KEYS = (
    Key("escape", "back", "Tillbaka", "tillbaka utan att spara"),
    Key("ctrl+s", "start_now", "Starta nu", "starta dialogen nu", priority=True),
    Key("ctrl+o", "prepare", "Förbered", "spara som förberedd, öppnas på mötesdagen", priority=True),
)

REGION_KEYS = (
    Key("escape", "back", "Tillbaka", "tillbaka till startsidan"),
    Key("e", "export", "Exportera", "exportera översikten: html, docx, md eller json"),
    Key("enter", "open", "Öppna", "öppna mottagningens senaste dialog", show=False),
)

HELP_SECTIONS = (
    ("Överallt", APP_KEYS),
    ("Startsidan", START_KEYS),
    ("Dialogen", DIALOGUE_KEYS),
    ("Data (F4 i dialogen)", DATA_KEYS),
    ("Ny dialog", NEW_KEYS),
    ("Tidigare dialoger", ARCHIVE_KEYS),
    ("En dialog i efterhand", TRANSCRIPT_KEYS),
    ("Regionöversikt", REGION_KEYS),
)


def bindings(keys) -> list:
    return [k.binding() for k in keys if k.bind]


_ALL_KEYS = tuple(k for _, keys in HELP_SECTIONS for k in keys)
_RANKS = {k.action: k.rank for k in _ALL_KEYS}
_OWN_ACTIONS = frozenset(k.action for k in _ALL_KEYS) | {"cancel", "command_palette", "escape"}

# Keys of Textual's own widgets that reach the key bar (an open Select list, the palette), in Swedish.
# A widget key that is not here is left out of the bar rather than shown in English.
WIDGET_LABELS = {
    "Dismiss menu": "Stäng listan",
    "Exit the command palette": "Stäng",
    "Open link": "Öppna länken",
}


def rank_of(action: str) -> int:
    return 0 if action == "app.help" else _RANKS.get(action, 50)


def footer_label(action: str, description: str) -> str | None:
    """The label the key bar shows for a binding: ours as written, a Textual widget's in Swedish,
    None (not shown) for one we have no Swedish for."""
    if action in _OWN_ACTIONS or action.removeprefix("app.") in _OWN_ACTIONS or action.removeprefix("screen.") in _OWN_ACTIONS:
        return description
    return WIDGET_LABELS.get(description)
