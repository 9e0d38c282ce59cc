"""The line mode: a whole dialogue in a plain terminal (ssh, screen readers, scripts, pipes).

One answer per line; a line ending in ``\\`` continues on the next. Lines starting with ``/`` are
commands (Swedish, with English aliases). Every event is committed before the next prompt is
printed, so ``/avsluta``, end of input, Ctrl-C, a closed terminal or a kill all leave the dialogue
resumable with ``dialogstod chat --resume ID``.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from assistant import engine as E
from assistant import glossary, lexicon, verbs
from assistant.continuity import preselected
from assistant.engine.answers import parse_due
from assistant.engine.view import NO_DATA
from assistant.flagstates import flag_marker
from assistant.session import FREE_AGAIN, Dialogue, DialogueError, NotStored, Unsaved
from assistant.textsafe import one_line, repair_undecodable, terminal_safe
from assistant.verbs import slash_hint

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_action(arg: str) -> tuple[str, str | None, str | None]:
    """'Se över telefontiderna; ansvarig Anna; 2027-03-31' -> (text, owner, due).

    After the text: a date (ÅÅÅÅ-MM-DD, or "datum …"), an owner ("ansvarig …", or the first other
    part). Anything else is an error rather than a silent guess."""
    parts = [p.strip() for p in arg.split(";")]
    text, owner, due = parts[0], None, None
    for part in parts[1:]:
        if not part:
            continue
        low = part.casefold()
        if _DATE.match(part):
            due = part
        elif low.startswith(("datum", "due", "senast")):
            due = part.split(maxsplit=1)[1].strip(" :") if " " in part else ""
        elif low.startswith(("ansvarig", "owner")):
            owner = part.split(maxsplit=1)[1].strip(" :") if " " in part else None
        elif owner is None and not any(ch.isdigit() for ch in part):
            owner = part
        else:
            raise E.EngineError(
                f"Förstod inte {part!r}. Skriv {slash_hint('action')}; ansvarig NAMN; ÅÅÅÅ-MM-DD (t.ex. 2027-03-31)."
            )
    return text, owner, due


def ask_line(prompt: str, inp: TextIO, out: TextIO) -> str | None:
    """One line from the user after ``prompt`` (echoed when piped, like answers); None at end of input."""
    out.write(prompt)
    out.flush()
    line = inp.readline()
    if line == "":
        out.write("\n")
        return None
    line = line.rstrip("\n").rstrip("\r")
    if not inp.isatty():
        out.write(terminal_safe(line) + "\n")
    return line.strip()


def ask_focus(
    flow, mode: str, inp: TextIO, out: TextIO, *, wished: dict[str, tuple[str, ...]] | None = None
) -> dict[str, tuple[str, ...]]:
    """Ask each party for its focus areas (a flow that asks for a choice, e.g. "Välj ut 2-3 områden
    som är extra viktiga att diskutera"). Enter skips a party (or takes the previous wish, ``wished``
    as ``continuity.wished_focus`` gives it)."""
    from assistant.engine.dispatch import check_focus_count

    probe = E.State(flow=flow)
    lo, hi = flow.focus.min, flow.focus.max
    areas = [s for s in flow.sections if s.kind == "dialogue"]
    out.write(f"{flow.focus.prompt} ({lo}–{hi} per part):\n")
    out.write("  " + " · ".join(flow.section_label(s) for s in areas) + "\n")
    chosen: dict[str, tuple[str, ...]] = {}
    for party in flow.parties_for(mode):
        default = (wished or {}).get(party.id, ())
        default = default if lo <= len(default) <= hi else ()
        hint = (
            "Enter tar önskemålet från förra dialogen: " + ", ".join(flow.section_label(flow.section_index[s]) for s in default)
            if default
            else "Enter hoppar över"
        )
        while True:
            line = ask_line(f"Fokusområden för {party.title} (t.ex. P1,P4; {hint}): ", inp, out)
            if line is None:
                return chosen
            if not line:
                if default:
                    chosen[party.id] = default
                break
            try:
                sections = tuple(E.resolve_section(probe, a) for a in re.split(r"[,;\s]+", line) if a)
                check_focus_count(flow, sections)
            except E.EngineError as exc:
                out.write(f"! {exc}\n")
                continue
            chosen[party.id] = sections
            break
    return chosen


class LineChat:
    def __init__(
        self,
        dialogue: Dialogue,
        *,
        inp: TextIO | None = None,
        out: TextIO | None = None,
        interactive: bool | None = None,
        resume_hint: str = "",
        previous=None,
    ):
        self.d = dialogue
        self.inp = inp or sys.stdin
        self.out = out or sys.stdout
        self.interactive = self.inp.isatty() if interactive is None else interactive
        self.resume_hint = resume_hint or f"dialogstod chat --resume {dialogue.id[:8]}"
        self.last_section: str | None = None
        self.last_subarea: str | None = None
        self.last_origin: str | None = None  # a question's source is said once while it stays the same
        self.warned = E.Once()  # time warnings are said once
        self.listed: list[E.Suggestion] = []  # the suggestions /förslag showed last (/ta N, /avböj N)
        st = dialogue.state
        self.announced = E.Once(set(st.offered) | st.accepted | st.dismissed)  # "(1 nytt förslag – /förslag)"
        self.previous = previous  # continuity.Previous: "Från förra dialogen"
        self.unsaved: list[NotStored] = []  # commands the database did not take, in order (/igen)
        dialogue.on_wait = self.waiting

    # ------------------------------------------------------------ output

    def say(self, text: str = "") -> None:
        # Everything the line mode prints passes here: typed text, and names and titles from
        # indicator files, bundles and flows. Control characters are shown, never act.
        self.out.write(terminal_safe(text) + "\n")

    def user(self, text: str) -> str:
        return terminal_safe(text)

    def flush(self) -> None:
        self.out.flush()

    def waiting(self, message: str) -> None:
        """The database is busy: say so while ``Dialogue.do`` waits (Ctrl-C keeps the text in the recovery file)."""
        self.say(f"… {message}")
        self.flush()

    # ------------------------------------------------------------ the loop

    def run(self, *, fresh: bool) -> int:
        self.banner(fresh)
        self.show_prompt(force_header=True)
        if self.interactive and self.d.topics() is not None and not lexicon.is_loaded():
            # The Swedish word list takes about a second to read: while the first answer is typed,
            # not after it. (Piped input needs it at once and reads it on first use.)
            threading.Thread(target=lexicon.warm, name="lexicon", daemon=True).start()
        try:
            while True:
                line = self.read_answer()
                if line is None:
                    self.say()
                    self.say("Slut på indata. " + self.saved_line())
                    return 0
                if not self.handle(line):
                    return 0
        except KeyboardInterrupt:
            self.say()
            self.say("Avbrutet. " + self.saved_line())
            return 130
        finally:
            self.flush()

    def saved_line(self) -> str:
        if self.d.state.finished:
            return f"Dialogen är avslutad och sparad. Exportera med: dialogstod export {self.d.id[:8]} --format html"
        return f"Dialogen är sparad. Fortsätt med: {self.resume_hint}"

    def read_answer(self) -> str | None:
        parts: list[str] = []
        while True:
            if self.interactive:
                self.out.write("> " if not parts else "… ")
            self.flush()
            line = self.inp.readline()
            if line == "":
                return "\n".join(parts) if parts else None
            line = line.rstrip("\n").rstrip("\r")
            repaired = repair_undecodable(line)
            if repaired != line:
                line = repaired
                self.say(f"(Raden var inte UTF-8 och lästes som Windows-1252: {terminal_safe(one_line(line, 60))})")
            if not self.interactive:
                self.say(("> " if not parts else "… ") + terminal_safe(line))
            if line.endswith("\\"):
                parts.append(line[:-1])
                continue
            parts.append(line)
            return "\n".join(parts)

    def handle(self, line: str) -> bool:
        """Handle one input; False ends the loop."""
        stripped = line.strip()
        if stripped.startswith("/") and not stripped.startswith("//"):
            name, _, arg = stripped[1:].partition(" ")
            return self.command(name.casefold(), arg.strip())
        if stripped.startswith("//"):  # an answer that starts with a slash
            line = line.replace("//", "/", 1)
        if self.d.state.current is None:
            self.say(self.nothing_to_answer())
            return True
        before = self.d.state.current
        made = self.run_engine(E.Answer(line))
        if made is None:
            return True
        self.after_events(made)
        if self.d.state.current != before:
            self.show_prompt()
        return True

    def run_engine(self, command, asked=None) -> list[E.Event] | None:
        """``Dialogue.do``, with what it has to say shown; None if nothing was stored. A command the
        database did not take is kept for /igen (its text is in the recovery file too)."""
        extra = {} if asked is None else {"asked": asked}
        try:
            made = self.d.do(command, **extra)
        except E.EngineError as exc:
            self.say(f"! {exc}")
            if self.d.caught_up:
                self.show_prompt()
            return None
        except NotStored as exc:
            self.unsaved.append(exc)
            self.say(f"! {exc}")
            again = f"Skriv {slash_hint('retry')} för att spara det när felet är åtgärdat"
            if isinstance(exc, Unsaved) and exc.recovery is not None:
                again += f", eller klistra in texten från {exc.recovery}"
            self.say(f"  Dialogen fortsätter. {again}.")
            return None
        except DialogueError as exc:
            self.say(f"! {exc}")
            return None
        if self.d.waited:
            self.say(FREE_AGAIN)
        for notice in self.d.notices:
            self.say(f"! {notice}")
        if self.d.caught_up:
            n = len(self.d.caught_up)
            what = "1 händelse därifrån är inläst" if n == 1 else f"{n} händelser därifrån är inlästa"
            self.say(f"(Dialogen ändrades samtidigt i ett annat fönster; {what}.)")
        return made

    def after_events(self, made: list[E.Event]) -> None:
        for notice in E.notices(made):
            self.say(f"! {notice}")

    # ------------------------------------------------------------ commands

    def command(self, name: str, arg: str) -> bool:
        cmd = verbs.BY_SLASH.get(name)
        if cmd is None:
            close = [v for v in verbs.LINE if any(n.startswith(name[:3]) for n in v.slash)] if name else []
            hint = f" Menade du /{close[0].slash[0]}?" if close else ""
            self.say(f"! Okänt kommando /{self.user(name)}.{hint} Skriv {slash_hint('help')} för alla kommandon.")
            return True
        handler: Callable[[str], bool | None] = getattr(self, "cmd_" + cmd.id)
        result = handler(arg)
        return result is not False

    def _navigate(self, command) -> None:
        before = self.d.state.current
        made = self.run_engine(command)
        if made is None:
            return
        self.after_events(made)
        if self.d.state.current != before or isinstance(command, E.Back):
            self.show_prompt()
        elif self.d.state.current is None:
            self.say(self.nothing_to_answer())

    def cmd_skip(self, arg: str) -> None:
        self._navigate(E.Skip())

    def cmd_back(self, arg: str) -> None:
        self._navigate(E.Back())

    def cmd_jump(self, arg: str) -> None:
        if not arg:
            self.say("Avsnitt:")
            for i, s in enumerate(E.visible_sections(self.d.state), 1):
                self.say(f"  {i}. {self.d.flow.section_label(s)}")
            self.say(f"Skriv {slash_hint('jump')}.")
            return
        self._navigate(E.Jump(arg))

    def cmd_end_section(self, arg: str) -> None:
        self._navigate(E.EndSection())

    def cmd_park(self, arg: str) -> None:
        if self.run_engine(E.Park()) is not None:
            self.say(f"Parkerad. ({len(self.d.state.parked)} på parkeringsplatsen)")
            self.show_prompt()

    def cmd_return_parked(self, arg: str) -> None:
        parked = list(self.d.state.parked)
        if not parked:
            self.say("Parkeringsplatsen är tom.")
            return
        current = self.d.state.current.qid if self.d.state.current is not None else None
        numbers = "1" if len(parked) == 1 else f"1–{len(parked)}"
        if arg:
            if not (arg.isascii() and arg.isdigit()):
                self.say(f"! Skriv {slash_hint('return_parked')} med numret på en parkerad fråga ({numbers}), inte ”{self.user(arg)}”.")
                return
            n = int(arg)
            if not 1 <= n <= len(parked):
                self.say(f"! Det finns ingen parkerad fråga nummer {n} ({numbers}).")
                return
            if parked[n - 1] == current:
                self.say(f"! Fråga {n} är den som visas nu.")
                return
            self._navigate(E.ReturnToParked(parked[n - 1]))
            return
        waiting = [i for i, qid in enumerate(parked, 1) if qid != current]
        if not waiting:
            self.say("! Den parkerade frågan är den som visas nu.")
            return
        if len(parked) > 1:
            self.say("Parkerade frågor:")
            for i, qid in enumerate(parked, 1):
                now = " (visas nu)" if qid == current else ""
                self.say(f"  {i}. {one_line(E.prompt_text(self.d.state, qid), 90)}{now}")
            self.say(f"Tar upp nummer {waiting[0]} (skriv {slash_hint('return_parked')} N för en annan).")
        self._navigate(E.ReturnToParked(parked[waiting[0] - 1]))

    def cmd_note(self, arg: str) -> None:
        made = self.run_engine(E.AddNote(arg))
        if made is not None:
            self.after_events(made)
            self.say("Anteckning sparad.")

    def cmd_action(self, arg: str) -> None:
        try:
            text, owner, due = parse_action(arg)
        except E.EngineError as exc:
            self.say(f"! {exc}")
            return
        made = self.run_engine(E.AddAction(text, owner, due))
        if made is not None:
            self.after_events(made)
            action = list(self.d.state.actions.values())[-1]
            extra = ", ".join(x for x in (action.owner and f"ansvarig {action.owner}", action.due) if x)
            self.say(f"Åtgärd {action.action_id} sparad" + (f" ({self.user(extra)})." if extra else "."))

    def cmd_suggestions(self, arg: str) -> None:
        found = self.d.offer(self.d.suggestions())  # shown here: recorded as offered, once
        self.listed = found
        self.announced.new(found, key=lambda s: s.sid)
        if not found:
            self.say("Inga förslag just nu.")
            return
        self.say("Förslag:")
        for i, s in enumerate(found, 1):
            if s.action or s.text or len(s.labels) < 2:
                self.say(f"  {i}. {self.user(s.reason)} → {self.user(s.title)}")
                continue
            self.say(f"  {i}. {self.user(s.reason)}")
            asked, more = glossary.suggestion_leads_to(s.labels, shown=3)
            for line in asked:
                self.say(f"       → {self.user(line)}")
            if more:
                self.say(f"         {more}")
        self.say(f"Skriv {slash_hint('accept')} för att ta ett förslag, {slash_hint('dismiss')} för att avböja.")

    def _pick(self, arg: str) -> E.Suggestion | None:
        if not self.listed:
            self.say(f"! Visa förslagen först med {slash_hint('suggestions')}.")
            return None
        arg = arg.split(";")[0].strip()
        if not arg.isdigit() or not 1 <= int(arg) <= len(self.listed):
            self.say(f"! Ange ett nummer mellan 1 och {len(self.listed)}.")
            return None
        return self.listed[int(arg) - 1]

    def cmd_accept(self, arg: str) -> None:
        s = self._pick(arg)
        if s is None:
            return
        if not s.action:
            if ";" in arg:
                self.say("! Förslaget är en fråga, ingen åtgärd: ansvarig och datum används inte.")
            self._navigate(E.Accept(s.sid))
            return
        # "Gör om till åtgärd": an action gets an owner and a date (given after the number, or asked).
        _, sep, rest = arg.partition(";")
        if sep:
            try:
                _, owner, due = parse_action("x;" + rest)
            except E.EngineError as exc:
                self.say(f"! {exc}")
                return
        else:
            self.say("Åtgärd: " + self.user(s.text or ""))
            owner = ask_line("Ansvarig (Enter hoppar över): ", self.inp, self.out)
            due = None
            while owner is not None:
                due = ask_line("Klart senast, ÅÅÅÅ-MM-DD (Enter hoppar över): ", self.inp, self.out)
                if not due:
                    break
                try:
                    parse_due(due)
                    break
                except E.EngineError as exc:
                    self.say(f"! {exc}")
        made = self.run_engine(E.Accept(s.sid, owner=owner or None, due=due or None))
        if made:
            self.after_events(made)
            action = list(self.d.state.actions.values())[-1]
            extra = ", ".join(x for x in (action.owner and f"ansvarig {action.owner}", action.due) if x)
            self.say(f"Åtgärd {action.action_id} sparad" + (f" ({self.user(extra)})" if extra else "") + ": " + self.user(action.text))

    def cmd_dismiss(self, arg: str) -> None:
        s = self._pick(arg)
        if s is not None and self.run_engine(E.Dismiss(s.sid)) is not None:
            self.say("Förslaget avböjt.")

    def cmd_data(self, arg: str) -> None:
        self.data_overview(show_all=True)

    def cmd_status(self, arg: str) -> None:
        st = self.d.state
        self.say(glossary.meeting_time(self.d.elapsed(), st.flow.meeting_minutes) + ".")
        areas = self.d.coverage()
        for a in areas:
            mark = glossary.coverage_mark(a.status)
            focus = " (fokus)" if a.focus else ""
            spent = f"{int(a.spent_seconds // 60)}/{a.minutes} min"
            self.say(
                f"  {mark} {a.label}{focus}: {a.answered} besvarade, {a.skipped} överhoppade, "
                f"{a.parked} parkerade, {a.untouched} kvar · {spent}"
            )
        untouched = [a.label for a in areas if not a.touched]
        if untouched:
            self.say("  Ej berört ännu: " + ", ".join(untouched))
        for a in areas:
            for x in a.exercises:
                if x.answered:
                    self.say(f"  {x.title} (i {a.label}): {x.answered} av {x.total} steg")
        self.say(f"Parkerade frågor: {len(st.parked)} · Anteckningar: {len(st.notes)} · Åtgärder: {len(st.actions)}")

    def cmd_summary(self, arg: str) -> None:
        from assistant import report

        doc = report.build(self.d.state, self.d.row, generated=self.d.clock())
        self.say("Sammanfattning av dialogen")
        self.say("  Åtgärder:")
        for a in doc["actions"]:
            extra = ", ".join(x for x in (a["owner"] and f"ansvarig {a['owner']}", a["due"]) if x)
            mark = "⚠ " if a["overdue"] else ""
            self.say(f"    {a['id']}. {self.user(a['text'])}" + (f" ({self.user(extra)})" if extra else "") + f" · {mark}{a['status_label']}")
        if not doc["actions"]:
            self.say(f"    (inga – {slash_hint('action')}; ansvarig NAMN; ÅÅÅÅ-MM-DD)")
        self.say("  Parkeringsplatsen:")
        for p in doc["parked"]:
            self.say(f"    – {self.user(p['question'])}")
        if not doc["parked"]:
            self.say("    (tom)")
        if doc["flags_discussed"]:
            self.say("  Data som diskuterades:")
            for f in doc["flags_discussed"]:
                self.say(f"    {f.get('marker', '▼')} {self.user(f['label'])} {f['period']}")
        self.say("  Täckning:")
        for c in doc["coverage"]:
            self.say(f"    {c['mark']} {c['label']}: {c['answered']} besvarade, {c['skipped']} överhoppade, {c['untouched']} kvar")
        if doc["untouched"]:
            self.say("  Ej berört: " + ", ".join(doc["untouched"]))

    def cmd_finish(self, arg: str) -> bool:
        if self.interactive and arg.casefold() not in ("ja", "j", "yes", "y"):
            untouched = [a.label for a in self.d.coverage() if not a.touched]
            if untouched:
                self.say("Ej berört ännu: " + ", ".join(untouched) + ".")
            self.out.write("Avsluta dialogen? Den kan fortfarande rättas och exporteras. [j/N] ")
            self.flush()
            reply = self.inp.readline().strip().casefold()
            if reply not in ("j", "ja", "y", "yes"):
                self.say("Dialogen fortsätter.")
                return True
        if self.run_engine(E.Finish()) is None:
            return True
        self.say("Dialogen är avslutad.")
        self.cmd_summary("")
        if self.d.state.mode != "self":
            self.phase_block("after")
        self.say(self.saved_line())
        return False

    def cmd_retry(self, arg: str) -> None:
        """Store, in order, what the database did not take; stop at the first that fails again."""
        if not self.unsaved:
            self.say("Det finns inget osparat att spara igen.")
            return
        pending, self.unsaved = self.unsaved, []
        for i, item in enumerate(pending):
            before = self.d.state.current
            made = self.run_engine(item.command, asked=item.asked)
            if made is None:
                if self.unsaved:  # not taken again: it and the rest wait for the next /igen
                    self.unsaved += pending[i + 1 :]
                    return
                continue  # no longer fits the dialogue (the message said why)
            self.after_events(made)
            self.say("Sparat.")
            if self.d.state.current != before:
                self.show_prompt()

    def cmd_quit(self, arg: str) -> bool:
        self.say(self.saved_line())
        return False

    def cmd_help(self, arg: str) -> None:
        self.say("Skriv ditt svar och tryck Enter. Avsluta en rad med \\ för att fortsätta svaret på nästa rad.")
        self.say("Ett svar som börjar med / skrivs med två snedstreck: //svar.")
        for v in verbs.LINE:
            aliases = "".join(f" (/{a})" for a in v.slash[1:])
            self.say(f"  {v.usage:<44} {v.chat_help}{aliases}")
        self.say("Ord: " + glossary.coverage_legend())
        for t in glossary.GLOSSARY:
            self.say(f"  {t.word}: {t.means}")

    # ------------------------------------------------------------ showing things

    def banner(self, fresh: bool, prepared: bool = False) -> None:
        st = self.d.state
        flow = self.d.flow
        mode = "självskattning" if st.mode == "self" else flow.document.meeting.lower()
        self.say(f"Dialogstöd · {self.user(self.d.clinic)} · {flow.title}")
        self.say(f"Dialog {self.d.id[:8]} · {mode}")
        if st.roles:
            self.say("Deltagare: " + ", ".join(self.user(f"{n} ({r})" if r else n) for n, r in st.roles.items()))
        for party, sections in st.focus.items():
            if sections:
                labels = ", ".join(flow.section_label(flow.section_index[s]) for s in sections)
                self.say(f"Fokusområden ({self.user(flow.party_title(party))}): {labels}")
        if st.stage:
            self.phase_block(st.stage)
            if st.dialogue.get("continues_date"):
                self.say(f"Fortsätter {flow.document.meeting.lower()} {st.dialogue['continues_date']} ({str(st.dialogue.get('continues', ''))[:8]}).")
        if fresh:
            intro = E.flow_intro(st)
            if intro and not prepared:
                self.say(self.user(intro))
            self.previous_block()
            self.data_overview(show_all=False)
            if prepared:
                if not flow.stages:
                    self.phase_block("before")
                self.preparation_block()
            else:
                if st.mode != "self" and not flow.stages:  # the roles of the meeting; a team asking itself has none
                    self.phase_block("during")
                self.say(f"Skriv ditt svar och tryck Enter. {slash_hint('help')} visar kommandona.")
        else:
            answered = len(st.answers)
            self.say(f"Fortsätter där dialogen slutade ({answered} svar hittills).")

    def phase_block(self, phase_id: str) -> None:
        """The method's own instructions for a phase (before / during / after), where the flow has them."""
        for phase in self.d.flow.phases:
            if phase.id == phase_id:
                self.say(phase.title + ":")
                for line in phase.instructions:
                    self.say("  – " + line)

    def preparation_block(self) -> None:
        """Where a facilitator prepares: the method's trust principles and Förbättringstrappan."""
        from assistant.method import method

        m = method()
        if m is None:
            return
        self.say(m.trust.title + ":")
        for p in m.trust.principles:
            self.say("  – " + p)
        self.say(f"{m.staircase.title}: {m.staircase.text}")
        self.say(
            f"Underlaget inför mötet (data, förra dialogens åtgärder, plan): dialogstod export {self.d.id[:8]} --pack --format html"
        )

    def previous_block(self) -> None:
        prev = self.previous
        if prev is None or prev.empty:
            return
        stage = self.d.flow.phase(prev.stage) if prev.stage else None
        where = f", {stage.title.split(':')[0]}" if stage else ""
        self.say(f"Från förra dialogen ({prev.started}, {prev.flow_title}{where}):")
        if prev.wish:
            self.say("  Önskemål inför detta möte: " + self.user(prev.wish))
        for question, answer in prev.carried.items():
            self.say(f"  {question} " + self.user(one_line(answer, 200)))
        if prev.open_actions:
            self.say(f"  Öppna åtgärder ({slash_hint('tick')} markerar klar, {slash_hint('update')} ansvarig NAMN; ÅÅÅÅ-MM-DD):")
            self.list_previous_actions()
        if prev.parked:
            self.say("  Kvar på parkeringsplatsen:")
            for q in prev.parked:
                self.say("    – " + self.user(q))
        if prev.flag_moves:
            self.say("  Data sedan dess:")
            for line in prev.flag_moves:
                self.say("    " + self.user(line))
        if prev.focus:
            labels = ", ".join(self.d.flow.section_label(self.d.flow.section_index[s]) for s in prev.focus)
            if preselected(self.d.flow, prev, self.d.state.focus):
                self.say("  Förvalda fokusområden utifrån önskemålet: " + labels)
            else:
                self.say("  Önskemålet nämner: " + labels)

    def list_previous_actions(self) -> None:
        from assistant.report import OVERDUE, local_today

        today = local_today(self.d.clock())
        for i, a in enumerate(self.previous.open_actions, 1):
            extra = ", ".join(x for x in (a.get("owner") and f"ansvarig {a['owner']}", a.get("due")) if x)
            done = a["status"] == "done"
            mark = "☑" if done else ("⚠" if E.action_overdue(a["status"], a.get("due"), today) else "☐")
            late = f" – {OVERDUE}" if mark == "⚠" else (" – klar" if done else "")
            self.say(f"    {i}. {mark} " + self.user(a["text"]) + (f" ({self.user(extra)})" if extra else "") + late)

    def _previous_action(self, arg: str) -> tuple[dict, str] | None:
        prev = self.previous
        if prev is None or not prev.open_actions:
            self.say("! Det finns inga öppna åtgärder från förra dialogen.")
            return None
        number, _, rest = arg.strip().partition(" ")
        number = number.rstrip(";")
        if not number.isdigit() or not 1 <= int(number) <= len(prev.open_actions):
            span = f"1–{len(prev.open_actions)}" if len(prev.open_actions) > 1 else "1"
            self.say(f"! Ange åtgärdens nummer, {span} (se {slash_hint('previous')}).")
            return None
        return prev.open_actions[int(number) - 1], rest.strip().lstrip(";").strip()

    def _update_previous(self, action: dict, command) -> bool:
        from assistant.continuity import update_previous_action
        from assistant.session import DialogueError

        try:
            owner, _ = update_previous_action(self.d.store, action, command, via=self.d.id)
        except (E.EngineError, DialogueError) as exc:
            self.say(f"! {exc}")
            return False
        updated = owner.state.actions[action["action_id"]]
        action.update(status=updated.status, owner=updated.owner, due=updated.due)
        return True

    def cmd_previous(self, arg: str) -> None:
        if self.previous is None or self.previous.empty:
            self.say("Det finns ingen tidigare dialog med mottagningen att ta med sig något från.")
            return
        self.previous_block()

    def cmd_tick(self, arg: str) -> None:
        found = self._previous_action(arg)
        if found is None:
            return
        action, _ = found
        if action["status"] == "done":
            self.say("Åtgärden är redan markerad som klar.")
            return
        if self._update_previous(action, E.UpdateAction(action["action_id"], status="done")):
            self.say(f"Klar: {self.user(action['text'])} (sparat i dialogen {action['dialogue_id'][:8]}).")

    def cmd_update(self, arg: str) -> None:
        found = self._previous_action(arg)
        if found is None:
            return
        action, rest = found
        try:
            _, owner, due = parse_action("x;" + rest if rest else "x")
        except E.EngineError as exc:
            self.say(f"! {exc}")
            return
        if owner is None and due is None:
            self.say(f"! Skriv vad som ändras, t.ex. /{verbs.verb('update').slash[0]} 1 ansvarig Anna; 2027-03-31")
            return
        if self._update_previous(action, E.UpdateAction(action["action_id"], owner=owner, due=due)):
            extra = ", ".join(x for x in (action.get("owner") and f"ansvarig {action['owner']}", action.get("due")) if x)
            self.say(f"Ändrad: {self.user(action['text'])} ({self.user(extra)}).")

    def data_overview(self, *, show_all: bool) -> None:
        overview = self.d.data_overview(show_all=show_all)
        if overview.empty == NO_DATA:
            if show_all:
                self.say(f"{overview.empty} Importera med `dialogstod data import`.")
            return
        self.say(f"Data för {self.user(self.d.clinic)}:")
        from assistant.data.charts import chart_data, text_lines

        for f in overview.flags:
            self.say(f"  {flag_marker(f)} {self.user(f.label)} {f.period}: {self.user(f.text)}")
            for line in text_lines(chart_data(f)):
                self.say("      " + self.user(line))
        if overview.small_note:
            self.say(f"  ({overview.small_note})")
        if overview.empty:
            self.say(f"  {overview.empty}")

    def nothing_to_answer(self) -> str:
        return E.nothing_to_answer(self.d.state, slash_hint)

    def show_prompt(self, force_header: bool = False) -> None:
        st = self.d.state
        for w in self.warned.new(self.d.warnings()):
            self.say(f"⏱ {w}")
        view = E.prompt_view(st)
        if view is None:
            self.say(self.nothing_to_answer())
            return
        if force_header or view.section != self.last_section:
            line = f"── {view.section_label} "
            where = glossary.question_counter(view.position, view.total)
            right = f" {where} · {glossary.meeting_time(self.d.elapsed(), self.d.flow.meeting_minutes).lower()}"
            self.say(line + "─" * max(3, 72 - len(line) - len(right)) + right)
            if view.section_intro and view.section != self.last_section:
                self.say(self.user(view.section_intro))
            self.last_section = view.section
            self.last_subarea = None
            self.last_origin = None
        if view.subarea and view.subarea != self.last_subarea:
            self.say(f"[{view.subarea}]")
            if view.subarea_intro:
                self.say(self.user(view.subarea_intro))
            self.last_subarea = view.subarea
        if view.via == "parked":
            self.say("(parkerad fråga)")
        self.say(self.user(view.text))
        for line in view.choice_lines():
            self.say("  " + self.user(line))
        if view.answer_hint:
            self.say(f"  ({view.answer_hint[0].lower()}{view.answer_hint[1:].rstrip('.')})")
        if view.help:
            self.say("  Hjälp: " + self.user(view.help))
        if view.origin_note and view.origin_note != self.last_origin:
            self.say("  Källa: " + self.user(view.origin_note))
        self.last_origin = view.origin_note
        if view.previous_answer is not None:
            self.say("  Tidigare svar: " + self.user(view.previous_answer))
        new = self.announced.new(self.d.suggestions(), key=lambda s: s.sid)
        if new:
            self.say(f"  ({len(new)} {'nytt förslag' if len(new) == 1 else 'nya förslag'} – {slash_hint('suggestions')})")
