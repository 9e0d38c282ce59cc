"""Every action of both doors, said once: its Swedish label and help, its keys in the app, its slash
commands (with aliases) in the line mode, where the key bar ranks it and when it applies.

This table feeds the app's key bindings, its key bar, F1 help and command palette
(``assistant/tui/keys.py`` turns it into Textual bindings) and the line mode's commands and
``/hjälp`` (``assistant/chat.py``). No Textual here: the line mode imports it.

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
class Verb:
    id: str
    label: str  # the key bar's label; the palette's name unless ``title`` says otherwise
    help: str  # what it does (F1, /hjälp, the palette)
    keys: str = ""  # the app's keys, Textual key names, comma separated ("": not in the app)
    slash: tuple[str, ...] = ()  # the line mode's commands: the Swedish name first, then aliases
    arg: str = ""  # what the line mode's command takes
    title: str = ""  # the palette's name, where it differs from the label
    action: str = ""  # the app's action (default: the id)
    key_note: str = ""  # said after the help in the app only (how the key behaves in a terminal)
    line_help: str = ""  # the line mode's help, where the command works differently from the key
    rank: int = 50  # the key bar keeps the lowest ranks when not every key fits (F1 is always kept)
    when: str = ""  # the key bar (and palette) show it only while this holds: the screen's ``key_applies``
    show: bool = True  # in the key bar
    priority: bool = False
    bind: bool = True  # False: listed in the help only (bound another way, e.g. Enter in a list)
    palette: bool = True  # in the command palette (where the app has it)

    @property
    def app_action(self) -> str:
        return self.action or self.id

    @property
    def display(self) -> str:
        """'Ctrl+S', 'PgUp', '1 / 2 / 3'."""
        return " / ".join(key_display(k) for k in self.keys.split(",")) if self.keys else ""

    @property
    def usage(self) -> str:
        """'/åtgärd TEXT [; ansvarig NAMN] [; ÅÅÅÅ-MM-DD]'."""
        return f"/{self.slash[0]} {self.arg}".strip() if self.slash else ""

    @property
    def app_help(self) -> str:
        return f"{self.help} {self.key_note}".strip() if self.key_note else self.help

    @property
    def chat_help(self) -> str:
        return self.line_help or self.help

    @property
    def name(self) -> str:
        return self.title or self.label


def key_display(key: str) -> str:
    """'ctrl+s' -> 'Ctrl+S', 'pageup' -> 'PgUp', 'f1' -> 'F1'."""
    parts = key.strip().split("+")
    names = {"ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "enter": "Enter", "escape": "Esc", "pageup": "PgUp",
             "pagedown": "PgDn"}
    return "+".join(names.get(p, p.upper() if len(p) <= 3 else p.capitalize()) for p in parts)


# ---------------------------------------------------------------- everywhere in the app (and the line mode)

APP = (
    Verb("help", "Hjälp", "visa hjälpen: alla kommandon och tangenter", keys="f1", slash=("hjälp", "help"),
         action="app.help"),
    Verb("palette", "Kommandon", "kommandopaletten: alla funktioner", keys="ctrl+p", action="app.command_palette",
         show=False, priority=True, palette=False),
    Verb("theme", "Tema", "växla ljust/mörkt tema", keys="f2", title="Ljust/mörkt tema", action="app.toggle_dark",
         show=False),
    Verb("quit", "Stäng", "stäng nu – allt är redan sparat, en dialog kan fortsättas senare", keys="ctrl+q",
         slash=("avsluta", "quit"), title="Stäng appen", action="app.quit", priority=True, rank=80),
)

START = (
    Verb("new", "Ny dialog", "starta eller förbered en ny dialog", keys="n"),
    Verb("archive", "Tidigare", "tidigare dialoger: sök, läs, exportera, rätta", keys="t", title="Tidigare dialoger"),
    Verb("region", "Regionöversikt", "alla mottagningar: dialoger, granskning, åtgärder, teman och data", keys="r"),
    Verb("import", "Importera data", "importera indikatordata (CSV eller .xlsx)", keys="i"),
    Verb("demo", "Demodata", "importera de påhittade demodata", keys="d", show=False),
    Verb("open", "Fortsätt", "fortsätt den markerade dialogen", keys="enter", show=False, bind=False, palette=False),
    Verb("open_number", "Fortsätt nummer", "fortsätt dialog nummer 1–9 i listan", keys="1,2,3,4,5,6,7,8,9",
         show=False, bind=False, palette=False),
)

# The dialogue's actions in the order the key bar shows them (and /hjälp lists them); ``rank`` says
# which keys matter most when the window is too narrow for all (Enter and Ctrl+J are said in the
# answer box itself). Keys that only apply now and then (Ctrl+R with something parked, Ctrl+T/Ctrl+F
# with suggestions, F3 while the panels are hidden, F5 with open actions from last time) are shown
# only then (``when``). Commands without keys are the line mode's; the app does them otherwise
# (a click on "Avböj", the panels, F5's list, Enter again after an error).
DIALOGUE = (
    Verb("send", "Skicka", "skicka svaret", keys="enter", title="Skicka svaret", rank=90),
    Verb("newline", "Ny rad", "ny rad i svaret", keys="ctrl+j",
         key_note="(även Shift+Enter/Alt+Enter där terminalen skiljer på dem)", rank=95, palette=False),
    Verb("skip", "Hoppa", "hoppa över frågan", keys="ctrl+s", slash=("hoppa", "skip"), title="Hoppa över frågan",
         rank=10),
    Verb("jump", "Gå till", "gå till ett avsnitt", keys="ctrl+g", slash=("avsnitt", "section"),
         arg="N (nummer, P1–P5, A–C eller id)", title="Gå till avsnitt", rank=15),
    Verb("toggle_panels", "Paneler", "visa/dölj sidopanelerna (smala fönster)", keys="f3", title="Visa/dölj paneler",
         rank=12, when="panels"),
    Verb("note", "Anteckning", "skriv en anteckning", keys="ctrl+n", slash=("anteckning", "note"), arg="TEXT",
         rank=20),
    Verb("action", "Åtgärd", "lägg till en åtgärd med ansvarig och datum", keys="ctrl+a", slash=("åtgärd", "action"),
         arg="TEXT [; ansvarig NAMN] [; ÅÅÅÅ-MM-DD]", rank=25),
    Verb("accept", "Ta förslag", "ta det översta förslaget som nästa fråga", keys="ctrl+t", slash=("ta", "accept"),
         arg="N [; ansvarig NAMN; ÅÅÅÅ-MM-DD]", action="accept_first",
         line_help="ta förslag N (en åtgärd frågar efter ansvarig och datum)", rank=30, when="suggestions",
         palette=False),
    Verb("dismiss", "Avböj förslag", "avböj förslag N", slash=("avböj", "dismiss"), arg="N"),
    Verb("suggestions", "Förslag", "lista förslagen på följdfrågor: ta eller avböj", keys="ctrl+f",
         slash=("förslag", "suggestions"), rank=35, when="suggestions"),
    Verb("park", "Parkera", "parkera frågan till senare (parkeringsplatsen)", keys="ctrl+k", slash=("parkera", "park"),
         title="Parkera frågan", rank=40),
    Verb("return_parked", "Parkerade", "ta upp en parkerad fråga", keys="ctrl+r", slash=("parkerade", "parked"),
         arg="[N]", title="Ta upp parkerad fråga", rank=32, when="parked"),
    Verb("back", "Tillbaka", "gå tillbaka till förra frågan", keys="ctrl+b", slash=("tillbaka", "back"),
         key_note="(i tmux: Ctrl+B två gånger)", rank=60),
    Verb("end_section", "Avsnitt klart", "avsluta avsnittet och gå vidare", keys="ctrl+e",
         slash=("avsnitt-klart", "end-section"), rank=70),
    Verb("data", "Data", "mottagningens data och flaggor, med trattdiagram och serie över tid", keys="f4",
         slash=("data",), title="Data och bilder", action="data_view", rank=65),
    Verb("previous", "Förra dialogen", "åtgärder från förra dialogen: markera klar, ändra ansvarig och datum",
         keys="f5", slash=("förra", "previous"), title="Åtgärder från förra dialogen", action="previous_actions",
         line_help="visa vad förra dialogen lämnade: önskemål, öppna åtgärder, parkerade frågor", rank=45,
         when="previous_actions"),
    Verb("tick", "Bocka av", "markera öppen åtgärd N från förra dialogen som klar", slash=("bocka", "tick"), arg="N"),
    Verb("update", "Ändra åtgärd", "ändra ansvarig eller datum för åtgärd N från förra dialogen",
         slash=("ändra", "update"), arg="N [ansvarig NAMN] [; ÅÅÅÅ-MM-DD]"),
    Verb("status", "Status", "täckning per område, tid, parkerade frågor och åtgärder", slash=("status",)),
    Verb("summary", "Sammanfattning", "åtgärder, parkeringsplatsen, diskuterad data och täckning",
         slash=("sammanfattning", "summary")),
    Verb("finish", "Avsluta", "avsluta dialogen (bekräftas); den kan fortfarande rättas och exporteras", keys="f9",
         slash=("klar", "finish"), title="Avsluta dialogen", rank=28),
    Verb("retry", "Spara igen", "försök spara det som inte kunde sparas (efter ett fel)", slash=("igen", "retry")),
    Verb("scroll_up", "Bläddra upp", "bläddra uppåt i samtalet", keys="pageup", action="scroll_chat(-1)", show=False,
         palette=False),
    Verb("scroll_down", "Bläddra ned", "bläddra nedåt i samtalet", keys="pagedown", action="scroll_chat(1)",
         show=False, palette=False),
)

ARCHIVE = (
    Verb("back", "Tillbaka", "tillbaka till startsidan", keys="escape", palette=False),
    Verb("search", "Sök", "fritextsök i alla dialoger (avvik* söker på ordbörjan)", keys="ctrl+f",
         action="focus_search", palette=False),
    Verb("open", "Öppna", "öppna dialogen", keys="enter", show=False, palette=False),
)

TRANSCRIPT = (
    Verb("back", "Tillbaka", "tillbaka", keys="escape", palette=False),
    Verb("export", "Exportera", "exportera: md, html, docx eller json", keys="e"),
    Verb("correct", "Rätta svar", "rätta ett svar (sparas som rättelse)", keys="r", title="Rätta ett svar"),
    Verb("toggle_action", "Åtgärd klar/öppen", "markera vald åtgärd som klar eller öppen igen", keys="k"),
    Verb("edit_action", "Ansvarig/datum", "ändra ansvarig och datum för vald åtgärd", keys="o",
         title="Ansvarig och datum"),
    Verb("review", "Granskning", "registrera granskningen: skickad, kommenterad, godkänd", keys="g"),
    Verb("continue", "Fortsätt dialogen", "öppna dialogen och fortsätt", keys="f"),
)

DATA = (
    Verb("back", "Tillbaka", "tillbaka till dialogen", keys="escape", palette=False),
    Verb("switch", "Växla bild", "växla mellan trattdiagram och serie över tid (låga fönster)", keys="v"),
)

NEW = (
    Verb("back", "Tillbaka", "tillbaka utan att spara", keys="escape", palette=False),
    Verb("start_now", "Starta nu", "starta dialogen nu", keys="ctrl+s", priority=True),
    Verb("prepare", "Förbered", "spara som förberedd, öppnas på mötesdagen", keys="ctrl+o", priority=True),
)

REGION = (
    Verb("back", "Tillbaka", "tillbaka till startsidan", keys="escape", palette=False),
    Verb("export", "Exportera", "exportera översikten: html, docx, md eller json", keys="e",
         title="Exportera regionöversikten"),
    Verb("open", "Öppna", "öppna mottagningens senaste dialog", keys="enter", show=False, palette=False),
)

# The app's help (F1) in this order; the line mode's /hjälp lists the commands of APP and DIALOGUE.
SECTIONS = (
    ("Överallt", APP),
    ("Startsidan", START),
    ("Dialogen", DIALOGUE),
    ("Data (F4 i dialogen)", DATA),
    ("Ny dialog", NEW),
    ("Tidigare dialoger", ARCHIVE),
    ("En dialog i efterhand", TRANSCRIPT),
    ("Regionöversikt", REGION),
)

# The line mode's commands: the dialogue's, then leaving and help.
LINE = tuple(v for v in DIALOGUE + APP if v.slash)
_BY_ID = {v.id: v for v in DIALOGUE + APP}
BY_SLASH = {name: v for v in LINE for name in v.slash}


def verb(verb_id: str) -> Verb:
    """A verb of the dialogue (or the whole app) by id."""
    return _BY_ID[verb_id]


def key_hint(verb_id: str) -> str:
    """How the app does it: 'Ctrl+R'."""
    return verb(verb_id).display


def slash_hint(verb_id: str) -> str:
    """How the line mode does it: '/avsnitt N' (the argument's first word)."""
    v = verb(verb_id)
    return f"/{v.slash[0]} {v.arg.split(' ')[0]}".strip() if v.arg and not v.arg.startswith("[") else f"/{v.slash[0]}"
