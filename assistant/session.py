"""A dialogue bound to storage: the one path both doors (line mode, TUI) and the CLI take.

``Dialogue.do(command)`` asks the engine for the events, commits them to the database, and only
then moves the state on. The state is always ``replay(flow, events)``; nothing here keeps
dialogue state of its own.

A typed text is never lost on the way to the database:

- another process wrote to the same dialogue meanwhile (a ``correct``, a second window): the
  new events are read and folded in, the command is checked against the new state with
  ``engine.dispatch`` and appended after them. An answer to a question that is no longer the one
  being asked is kept as a note to that question, and the door says so;
- the database is busy (a large data import holds the write lock for seconds): ``do`` waits,
  telling the door once through ``on_wait``, for up to ``patience`` seconds;
- the database cannot be written (read-only file, full disk, I/O error, or still busy after
  ``patience``): the text is appended to a recovery file next to the database (0600) and
  ``Unsaved`` says where and how to enter it again; the dialogue goes on.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant import engine as E
from assistant.data.peers import likely_clinic  # noqa: F401 - the app asks here too
from assistant.flows import FlowError, LoadedFlow, flow_from_source, get_flow

Clock = Callable[[], datetime]
_UNSET = object()

# How long a door waits for a busy database before the text goes to the recovery file.
PATIENCE_S = 120.0
SAY_WAITING_MS = 1000  # how long a write waits for the lock before the door is told it is waiting
MAX_CATCH_UPS = 50  # other processes writing to the same dialogue in a tight loop: give up after this

WAITING = (
    "Databasen är upptagen av ett annat program (till exempel en stor dataimport). "
    "Väntar – det sparas så snart databasen är ledig."
)
FREE_AGAIN = "Databasen är ledig igen; det är sparat."


class DialogueError(Exception):
    """A dialogue that cannot be opened, or a command that could not be stored: the message is for the user."""


class NotStored(DialogueError):
    """A command that was not stored. ``command`` and ``asked`` (the question on screen when it
    was given) let the door try again: ``dialogue.do(exc.command, asked=exc.asked)``."""

    def __init__(self, message: str, *, command: Any, asked: str | None):
        super().__init__(message)
        self.command = command
        self.asked = asked


class Busy(NotStored):
    """The database stayed busy and the caller asked not to wait (``patience=0``): nothing was
    written and nothing was put in the recovery file; the caller tries again later."""


class Unsaved(NotStored):
    """A command whose events could not be stored. ``text`` is what the person wrote (None for a
    command without text) and ``recovery`` the file it was saved in (None if none could be written)."""

    def __init__(
        self,
        message: str,
        *,
        command: Any,
        asked: str | None,
        text: str | None = None,
        recovery: Path | None = None,
    ):
        super().__init__(message, command=command, asked=asked)
        self.text = text
        self.recovery = recovery


CURRENT = object()  # Dialogue.do(asked=...): the question on screen now


class Dialogue:
    def __init__(self, store, loaded: LoadedFlow, row: dict, events: list[E.Event], clock: Clock = E.utcnow):
        self.store = store
        self.loaded = loaded
        self.row = row
        self.clock = clock
        self.events = events
        try:
            self.state = E.replay(loaded.flow, events)
        except E.ReplayError as exc:
            raise DialogueError(
                f"Dialogen {row['id'][:8]} kan inte läsas med flödet {loaded.flow.id} "
                f"(version {loaded.flow.version}): {exc}"
            ) from None
        self._flags: list[Any] | None = None
        self._topics: Any = _UNSET
        self.patience = PATIENCE_S
        self.on_wait: Callable[[str], None] | None = None  # the door shows that a write is waiting
        self.notices: list[str] = []  # what the last ``do`` has to tell the user
        self.caught_up: list[E.Event] = []  # events from elsewhere folded in by the last ``do``
        self.waited = False  # the last ``do`` waited for a busy database (and then stored)
        self._doing = threading.RLock()  # one ``do`` at a time (a door may retry in a worker thread)

    # ------------------------------------------------------------ opening

    @classmethod
    def start(
        cls,
        store,
        flow_id: str,
        options: E.StartOptions,
        *,
        clock: Clock = E.utcnow,
    ) -> Dialogue:
        loaded = get_flow(flow_id)
        clinic = canonical_clinic(store, options.clinic)
        options = E.StartOptions(**{**options.__dict__, "flow_sha256": loaded.sha256, "clinic": clinic})
        events = E.start(loaded.flow, options, clock())
        state = E.replay(loaded.flow, events)
        dialogue_id = str(uuid.uuid4())
        store.create_dialogue(
            dialogue_id=dialogue_id,
            clinic=state.dialogue["clinic"],
            flow_id=loaded.flow.id,
            flow_version=loaded.flow.version,
            flow_sha256=loaded.sha256,
            mode=state.mode,
            participants=state.dialogue.get("participants", []),
            status=state.status,
            events=events,
        )
        if loaded.source:
            store.save_flow_source(loaded.sha256, loaded.flow.id, loaded.flow.version, loaded.source)
        row = store.get_dialogue(dialogue_id)
        dialogue = cls(store, loaded, row, events, clock)
        if state.status == "in_progress":
            dialogue.record_flags()
        return dialogue

    @classmethod
    def resume(cls, store, ref: str, *, clock: Clock = E.utcnow) -> Dialogue:
        row = store.get_dialogue(ref)
        if row is None:
            from assistant.errors import no_such_dialogue

            raise DialogueError(no_such_dialogue(ref))
        return cls(store, flow_for(store, row), row, store.load_events(row["id"]), clock)

    # ------------------------------------------------------------ doing

    @property
    def id(self) -> str:
        return self.row["id"]

    @property
    def flow(self):
        return self.loaded.flow

    @property
    def clinic(self) -> str:
        return self.state.dialogue.get("clinic") or self.row.get("clinic", "")

    def open_meeting(self) -> list[E.Event]:
        """A prepared dialogue's meeting begins: open it and record the data shown (unless another
        window opened it just before)."""
        try:
            made = self.do(E.Open())
        except E.EngineError:
            if self.state.status == "prepared":
                raise
            return []
        return made + self.record_flags()

    def record_flags(self) -> list[E.Event]:
        from assistant.flagstates import flagged
        from assistant.flagview import flag_snapshot

        shown = flagged(self.flags())
        if not shown:
            return []
        return self.do(E.ShowFlags(tuple(flag_snapshot(f) for f in shown)))

    def do(
        self,
        command: Any,
        *,
        asked: str | None | object = CURRENT,
        patience: float | None = None,
        busy_timeout_ms: int | None = None,
    ) -> list[E.Event]:
        """Run a command: its events are on disk before the new state (and next prompt) exists.

        ``asked``: the question on screen when the command was given, if not the current one (a
        door trying again after ``Unsaved``/``Busy`` passes the exception's ``asked``).
        ``EngineError``: the command does not fit the state (nothing written). ``Busy``: the
        database was busy and ``patience`` is 0. ``Unsaved``: it could not be written (see the
        module docstring). ``notices`` and ``caught_up`` tell the door what else happened."""
        with self._doing:
            return self._do(command, asked, patience, busy_timeout_ms)

    def refusal(self, command: Any) -> str | None:
        """Why ``command`` does not fit the state now (the ``EngineError`` ``do`` would raise), or
        None if it fits. Nothing is written: a door asks before doing something first that only
        makes sense if the command goes through."""
        try:
            E.step(self.state, command, self.clock())
        except E.EngineError as exc:
            return str(exc)
        return None

    def _do(self, command: Any, asked: Any, patience: float | None, busy_timeout_ms: int | None) -> list[E.Event]:
        self.notices = []
        self.caught_up = []
        self.waited = False
        current = self.state.current.qid if self.state.current else None
        if asked is CURRENT:
            asked = current
        elif asked != current:
            command = self._still_meant(command, asked)
            asked = current
        made = E.step(self.state, command, self.clock())
        if not made:
            return made
        patience = self.patience if patience is None else patience
        waiting_since: float | None = None
        moves = 0
        reopened = False
        from storage.errors import DialogueMoved, StorageBusy, StorageError, StorageReadOnly

        while True:
            try:
                # A door that can say it is waiting says so after a second, not after the full busy timeout.
                first = waiting_since is None and busy_timeout_ms is None and self.on_wait is not None
                self.store.append_events(self.id, made, busy_timeout_ms=SAY_WAITING_MS if first else busy_timeout_ms)
                break
            except DialogueMoved:
                moves += 1
                theirs = self._catch_up()
                if theirs[: len(made)] == made:  # our own write landed after all (reported as failed)
                    self.caught_up = self.caught_up[: len(self.caught_up) - len(theirs)] + theirs[len(made) :]
                    return made
                if moves > MAX_CATCH_UPS:
                    self._rescue(command, asked, "dialogen ändrades hela tiden i ett annat fönster")
                command = self._still_meant(command, asked)
                asked = self.state.current.qid if self.state.current else None
                made = E.step(self.state, command, self.clock())
                if not made:
                    return made
            except StorageBusy as exc:
                if patience <= 0:
                    raise Busy(str(exc), command=command, asked=asked) from None
                now = time.monotonic()
                if waiting_since is None:
                    waiting_since = now
                    if self.on_wait is not None:
                        self.on_wait(WAITING)
                elif now - waiting_since >= patience:
                    self._rescue(command, asked, f"databasen var upptagen i mer än {int(patience)} sekunder")
            except StorageReadOnly as exc:
                # Opened when the file could not be written, writable now (the permissions were
                # fixed): a new connection can write. Otherwise the text goes to the recovery file.
                if reopened or not self.store.reopen_if_writable():
                    self._rescue(command, asked, _reason(exc))
                reopened = True
            except StorageError as exc:
                self._rescue(command, asked, _reason(exc))
            except KeyboardInterrupt:
                if waiting_since is not None:  # interrupted while waiting: keep the text, then stop
                    try:
                        self._rescue(command, asked, "avbrutet medan databasen var upptagen")
                    except Unsaved:
                        pass
                raise
        self.waited = waiting_since is not None
        self.events = self.events + made
        self.state = E.advance(self.state, made)
        return made

    def _catch_up(self) -> list[E.Event]:
        """Fold in the events other processes appended since ours; returns them."""
        theirs = self.store.load_events(self.id, after=self.state.last_seq)
        if theirs:
            try:
                self.state = E.advance(self.state, theirs)
            except E.ReplayError as exc:
                raise DialogueError(
                    f"Dialogen {self.id[:8]} ändrades i ett annat fönster på ett sätt som inte går att läsa: {exc}"
                ) from None
            self.events = self.events + theirs
            self.caught_up = self.caught_up + theirs
        return theirs

    def _still_meant(self, command: Any, asked: str | None) -> Any:
        """``command`` as it should go on after others' events: unchanged if it still means the
        same; an answer to a question no longer asked becomes a note to it (told in ``notices``);
        a move relative to the question on screen is refused (it has nothing typed to lose)."""
        current = self.state.current.qid if self.state.current else None
        if current == asked:
            return command
        if isinstance(command, E.Answer) and asked is not None:
            question = E.prompt_text(self.state, asked)
            self.notices.append(
                f"Dialogen ändrades i ett annat fönster medan du skrev, och frågan ”{question}” var inte längre "
                "den aktuella. Ditt svar är sparat som en anteckning till den frågan; gör det till svaret med "
                f"dialogstod correct {self.id[:8]} {asked} \"TEXT\" om det behövs."
            )
            return E.AddNote(command.text, qid=asked)
        if isinstance(command, E.Skip | E.Park | E.EndSection | E.Back):
            raise E.EngineError(
                "Dialogen ändrades i ett annat fönster, så frågan på skärmen är en annan nu. Inget ändrades; försök igen."
            )
        return command

    def keep(self, command: Any, asked: str | None, why: str) -> Path | None:
        """Append what was typed in ``command`` to the recovery file; where it went (None if it
        has no text, or no place could be written)."""
        from assistant import locations
        from assistant.fileio import FileProblem, append_private, make_private_dirs

        text, _ = _typed(command)
        if text is None:
            return None
        entry = recovery_entry(self, command, asked, text, why)
        for path in recovery_paths(self.store.path):
            try:
                if path.parent == locations.data_dir():
                    make_private_dirs(path.parent)  # ours to create (0700) if it is not there yet
                return append_private(path, entry)
            except (FileProblem, OSError):
                continue
        return None

    def _rescue(self, command: Any, asked: str | None, why: str) -> None:
        """Keep what was typed in the recovery file, and raise ``Unsaved`` saying where."""
        text, what = _typed(command)
        if text is None:
            raise Unsaved(
                f"Det gick inte att spara i databasen: {why}. Försök igen när felet är åtgärdat.",
                command=command,
                asked=asked,
            )
        where = self.keep(command, asked, why)
        kept = (
            f"Texten är sparad i {where}."
            if where is not None
            else "Texten kunde inte heller sparas i en fil; kopiera den från skärmen."
        )
        raise Unsaved(
            f"{what} kunde inte sparas i databasen: {why}. {kept}",
            command=command,
            asked=asked,
            text=text,
            recovery=where,
        )

    # ------------------------------------------------------------ data and suggestions

    def flags(self) -> list[Any]:
        """The clinic's flags, newest period per indicator (computed once per dialogue opening)."""
        if self._flags is None:
            from assistant.flagview import clinic_flags

            self._flags = clinic_flags(self.store, self.clinic, latest_only=True)
        return self._flags

    def topics(self) -> E.TopicSet | None:
        """The flow's topic catalogue, compiled once per dialogue opening (None without one)."""
        if self._topics is _UNSET:
            self._topics = topic_set(self.flow)
        return self._topics

    def suggestions(self) -> list[E.Suggestion]:
        """Follow-ups from the flow's rules, the clinic's flags and what the answers take up. The
        first call that reads answers loads the Swedish word list (``assistant.lexicon.warm``)."""
        return E.suggestions(self.state, self.flags(), self.clock(), topics=self.topics())

    def offer(self, shown: list[E.Suggestion]) -> list[E.Suggestion]:
        """Record ``shown`` as offered: a door calls this with the suggestions it puts before the
        user, when it does (the line mode on /förslag, the app when its panel or list shows them).
        A suggestion is logged once, and again only if it now leads elsewhere; a refresh that shows
        the same ones writes nothing. Returns those on record (none new while the database cannot
        be written: a suggestion is only offered once it is on record)."""
        if shown:
            try:
                self.do(E.Offer(tuple(shown)), patience=0, busy_timeout_ms=250)
            except DialogueError:
                return [s for s in shown if s.sid in self.state.offered]
        return shown

    def data_overview(self, *, show_all: bool = False) -> E.DataOverview:
        """The clinic's data as both doors list it (``engine.view.data_overview``)."""
        from assistant.flagstates import flag_marker

        return E.data_overview(self.flags(), flag_marker, show_all=show_all)

    def coverage(self) -> list[E.AreaCoverage]:
        return E.coverage(self.state, self.clock())

    def warnings(self) -> list[str]:
        return E.warnings(self.state, self.clock())

    def elapsed(self) -> float:
        return self.state.elapsed_seconds(self.clock())


def _reason(exc: Exception) -> str:
    """A storage error's message as a clause ("Databasen … är skrivskyddad. Kontrollera …" -> lower-case start, no final period)."""
    text = str(exc).strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def _typed(command: Any) -> tuple[str | None, str]:
    """The text a person wrote in ``command`` (None if none) and what it is, in Swedish."""
    match command:
        case E.Answer(text=text):
            return text, "Svaret"
        case E.AddNote(text=text):
            return text, "Anteckningen"
        case E.AddAction(text=text, owner=owner, due=due):
            extra = "; ".join(x for x in (owner and f"ansvarig {owner}", due) if x)
            return text + (f"; {extra}" if extra else ""), "Åtgärden"
        case E.Correct(text=text):
            return text, "Rättelsen"
    return None, "Ändringen"


def recovery_paths(db_path: Path) -> list[Path]:
    """Where a text that could not be stored is kept: next to the database, else in the user data
    directory, else in the temporary directory."""
    import os
    import tempfile

    from assistant import locations

    db_path = Path(db_path)
    name = "dialogstod-osparat.txt"
    out = [db_path.with_name(db_path.name + ".osparat.txt"), locations.data_dir() / name]
    out.append(Path(tempfile.gettempdir()) / f"dialogstod-osparat-{os.getuid() if hasattr(os, 'getuid') else 0}.txt")
    return list(dict.fromkeys(out))


def recovery_entry(d: Dialogue, command: Any, asked: str | None, text: str, why: str) -> str:
    """One entry of the recovery file: when, which dialogue and question, the text, and how to enter it again."""
    from datetime import UTC

    now = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    _, what = _typed(command)
    about = ""
    if isinstance(command, E.Answer | E.Correct) and (asked or getattr(command, "qid", None)):
        qid = getattr(command, "qid", None) or asked
        about = f" på frågan ”{E.prompt_text(d.state, qid)}” ({qid})"
    return (
        f"── {now} · dialog {d.id[:8]} · {d.clinic}\n"
        f"{what}{about}, som inte kunde sparas ({why}):\n"
        f"{text}\n"
        f"Skriv in det igen när felet är åtgärdat: dialogstod --db {d.store.path} chat --resume {d.id[:8]} "
        "(eller öppna dialogen i appen).\n\n"
    )


def flow_for(store, row: dict, carried: dict[str, dict[str, Any]] | None = None) -> LoadedFlow:
    """The flow a dialogue was held on: today's file if it is unchanged, else the exact text
    stored when the dialogue started (so editing a flow never locks out old dialogues), or – for
    a dialogue being imported – carried in the file (``carried``: sha256 -> {source, …}, each
    already checked against its hash)."""
    problems: list[str] = []
    try:
        current = get_flow(row["flow_id"], checked=False)
        if current.sha256 == row["flow_sha256"]:
            return current
    except FlowError as exc:
        current = None
        problems = exc.problems
    stored = None
    if row.get("flow_sha256"):
        in_file = (carried or {}).get(row["flow_sha256"])
        stored = in_file["source"] if in_file is not None else store.flow_source(row["flow_sha256"])
    if stored is not None:
        try:
            return flow_from_source(stored, row["flow_sha256"])
        except FlowError as exc:
            problems = exc.problems
    if current is not None:
        return current  # an older dialogue from before flows were kept: try today's version
    raise DialogueError(f"Dialogens flöde {row['flow_id']!r} kan inte läsas: {'; '.join(problems)}")


def canonical_clinic(store, name: str) -> str:
    """An earlier spelling of the same clinic (names are matched without regard to case)."""
    wanted = name.strip().casefold()
    for clinic in store.clinics():
        if clinic["name"].casefold() == wanted:
            return clinic["name"]
    return name.strip()


def known_clinics(store) -> list[str]:
    """Every clinic name the database knows: from earlier dialogues and from the imported data."""
    names = {c["name"].casefold(): c["name"] for c in store.clinics()}
    for name in store.indicator_clinics():
        names.setdefault(name.casefold(), name)
    return sorted(names.values(), key=str.casefold)


OPEN_STATUSES = ("in_progress", "prepared")


def open_dialogues(store, clinic: str) -> list[dict[str, Any]]:
    """The clinic's dialogues in progress or prepared, most recently changed first: starting another
    one beside them is most often a mistake (both doors ask first)."""
    return [r for r in store.list_dialogues(clinic=clinic.strip()) if r["status"] in OPEN_STATUSES]


def open_dialogue_text(row: dict[str, Any]) -> str:
    """'pågående dialog (startad 2026-03-12, Uppföljningsdialog 2023 – …, 3f2a1b2c)'."""
    try:
        title = get_flow(row["flow_id"]).flow.title
    except FlowError:
        title = row["flow_id"]
    what = "förberedd dialog" if row["status"] == "prepared" else "pågående dialog"
    return f"{what} (startad {str(row['started'])[:10]}, {title}, {row['id'][:8]})"


def topic_set(flow: Any) -> E.TopicSet | None:
    """The shipped (and region's) topics compiled for a flow, or None when there is no catalogue,
    it cannot be read, or it does not fit the flow (a dialogue resumed after the catalogue was
    edited: it still opens; only answer-topic suggestions are missing; ``dialogstod flows check``
    names the problem)."""
    from assistant.topics import check_against_flow, default_topics

    try:
        catalogue = default_topics()
    except FlowError:
        return None
    if catalogue is None:
        return None
    key = (id(flow), id(catalogue))
    found = _COMPILED.get(key)
    if found is None or found[0] is not flow:
        if len(_COMPILED) > 32:
            _COMPILED.clear()
        fits = not check_against_flow(catalogue, flow)
        found = (flow, E.compile_topics(catalogue, flow) if fits else None)
        _COMPILED[key] = found
    return found[1]


_COMPILED: dict[tuple[int, int], tuple[Any, Any]] = {}
