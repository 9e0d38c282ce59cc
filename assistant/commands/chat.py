"""`dialogstod chat`: start, prepare or resume a dialogue in the line mode."""

from __future__ import annotations

import os
import signal
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "chat",
        help="håll en dialog i terminalen (radläge)",
        description="Håll en dialog i terminalen, en rad per svar. /hjälp under dialogen visar kommandona.",
    )
    p.add_argument("--flow", metavar="ID", help="flödets id, t.ex. fysioterapi-2023 (se `flows list`)")
    p.add_argument("--clinic", metavar="NAMN", help="mottagningens namn")
    p.add_argument("--mode", choices=("facilitator", "self"), default="facilitator", help="facilitator (standard) eller self (självskattning)")
    p.add_argument(
        "--participant",
        action="append",
        default=[],
        metavar="NAMN:ROLL",
        help="deltagare och roll, t.ex. \"Anna:verksamhetschef\" (kan upprepas)",
    )
    p.add_argument(
        "--focus",
        action="append",
        default=[],
        metavar="PART=OMRÅDEN",
        help="en parts fokusområden, t.ex. mottagningen=P3,P5 (parterna står i flödet; kan upprepas). "
        "Utan --focus frågar ett flöde som kräver ett val (vårdcentral: 2–3 områden) efter dem.",
    )
    p.add_argument("--stage", metavar="DEL", help="flöden i delar (Nära vård): vilken del, t.ex. del-2 (standard: nästa)")
    p.add_argument("--prepare", action="store_true", help="förbered dialogen inför mötet och avsluta")
    p.add_argument("--resume", metavar="ID", help="fortsätt en sparad dialog (id eller början av id)")
    p.add_argument("--reopen", action="store_true", help="med --resume: öppna en avslutad dialog igen")
    p.add_argument(
        "--ny",
        "--new",
        dest="new",
        action="store_true",
        help="starta en ny dialog utan att fråga: även om mottagningen redan har en pågående eller förberedd, "
        "och med namnet som det skrivs även om det liknar en annan mottagnings",
    )
    p.add_argument(
        "--keep-identity-numbers",
        action="store_true",
        help="spara personnummer som de skrivs (standard: de maskeras innan de sparas)",
    )
    p.set_defaults(func=cmd_chat)


def _participants(raw: list[str]):
    from assistant.engine import Participant
    from assistant.errors import UserError

    out = []
    for item in raw:
        name, sep, role = item.partition(":")
        if not name.strip():
            raise UserError(f"Deltagaren {item!r} saknar namn. Skriv NAMN:ROLL.")
        out.append(Participant(name.strip(), role.strip() if sep else ""))
    return tuple(out)


def parse_focus(flow, raw: list[str]) -> dict[str, tuple[str, ...]]:
    from assistant.engine import EngineError, State, resolve_section
    from assistant.engine.dispatch import check_focus_count
    from assistant.errors import UserError

    probe = State(flow=flow)
    out: dict[str, tuple[str, ...]] = {}
    for item in raw:
        party, sep, areas = item.partition("=")
        if not sep:
            party, areas = "gemensamt", item
        else:
            known = flow.party(party)  # a party the flow names is stored by its id; another as written
            if known is not None:
                party = known.id
        try:
            sections = tuple(resolve_section(probe, a) for a in areas.split(",") if a.strip())
        except EngineError as exc:
            raise UserError(str(exc)) from None
        try:
            check_focus_count(flow, sections)
        except EngineError as exc:
            raise UserError(f"{party.strip() or 'gemensamt'}: {exc}") from None
        out[party.strip() or "gemensamt"] = sections
    return out


def _resume_hint(args, dialogue_id: str) -> str:
    db = f"--db {args.db} " if getattr(args, "db", None) else ""
    return f"dialogstod {db}chat --resume {dialogue_id[:8]}"


def cmd_chat(args) -> int:
    from assistant import engine as E
    from assistant.chat import LineChat, ask_focus
    from assistant.continuity import next_stage, previous_dialogue, wished_focus
    from assistant.database import open_store
    from assistant.errors import UserError
    from assistant.flagview import clinic_flags
    from assistant.flows import get_flow
    from assistant.session import Dialogue, DialogueError
    from assistant.textsafe import terminal_safe

    previous = None

    if not args.resume and not (args.flow and args.clinic):
        raise UserError("Ange --flow och --clinic för en ny dialog, eller --resume ID för att fortsätta en.")
    store = open_store()
    try:
        if not args.resume and not args.new:
            args.clinic = _meant_clinic(store, args)
            args.resume = _already_open(store, args)
        if args.resume:
            try:
                dialogue = Dialogue.resume(store, args.resume)
            except DialogueError as exc:
                raise UserError(str(exc)) from None
            fresh = False
            if dialogue.state.status == "prepared":
                flow = dialogue.flow
                if flow.focus.ask and not any(dialogue.state.focus.values()):
                    chosen = ask_focus(flow, dialogue.state.mode, sys.stdin, sys.stdout)
                    for party, sections in chosen.items():
                        dialogue.do(E.ChooseFocus(party, sections))
                dialogue.open_meeting()
                fresh = True
                previous = previous_dialogue(
                    store, dialogue.clinic, dialogue.flow, dialogue.flags(), exclude=dialogue.id
                )
            elif dialogue.state.finished:
                if not args.reopen:
                    raise UserError(
                        f"Dialogen {dialogue.id[:8]} är avslutad. Läs den med `dialogstod show {dialogue.id[:8]}`, "
                        "rätta med `dialogstod correct`, eller fortsätt med --reopen."
                    )
                dialogue.do(E.Reopen())
            if previous is None and not dialogue.state.finished:  # for /förra, /bocka and /ändra
                previous = previous_dialogue(
                    store, dialogue.clinic, dialogue.flow, dialogue.flags(), exclude=dialogue.id
                )
        else:
            flow = get_flow(args.flow).flow
            focus = parse_focus(flow, args.focus)
            previous = previous_dialogue(store, args.clinic.strip(), flow, clinic_flags(store, args.clinic.strip(), latest_only=True))
            wished = wished_focus(flow, args.mode, previous)
            if not focus and flow.focus.ask:
                focus = ask_focus(flow, args.mode, sys.stdin, sys.stdout, wished=wished)
            elif not focus:
                focus = wished
            stage = args.stage
            if flow.stages:
                stage = stage or next_stage(flow, previous)
            elif stage:
                raise UserError(f"Flödet {flow.id} har inga delar; --stage gäller flöden i delar som nara-vard.")
            continues = previous.dialogue_id if previous is not None and flow.stages and previous.flow_id == flow.id else None
            options = E.StartOptions(
                clinic=args.clinic,
                mode=args.mode,
                participants=_participants(args.participant),
                prepared=args.prepare,
                focus=focus,
                mask_pii=not args.keep_identity_numbers,
                stage=stage,
                continues=continues,
                continues_date=previous.started if continues else None,
            )
            try:
                dialogue = Dialogue.start(store, args.flow, options)
            except E.EngineError as exc:
                raise UserError(str(exc)) from None
            fresh = True
            if args.prepare:
                chat = LineChat(dialogue, resume_hint=_resume_hint(args, dialogue.id), previous=previous)
                chat.banner(fresh=True, prepared=True)
                print(f"Dialog {dialogue.id[:8]} förberedd för {terminal_safe(dialogue.clinic)}.")
                print(f"Öppna den på mötesdagen med: {_resume_hint(args, dialogue.id)}")
                return 0
        _install_hangup_handler()
        chat = LineChat(dialogue, resume_hint=_resume_hint(args, dialogue.id), previous=previous)
        return chat.run(fresh=fresh)
    finally:
        store.close()


def _meant_clinic(store, args) -> str:
    """A name that is not known but probably means a clinic that is ("Fysio Söder" – the data is for
    "Fysio Söder (påhittad)") gets the app's question: typed, "Menade du …? [J/n]" (Enter takes the
    known name); piped, it stops with what to write, as for a second dialogue. Returns the name to use."""
    from assistant.chat import ask_line
    from assistant.errors import UserError
    from assistant.session import known_clinics, likely_clinic
    from assistant.textsafe import terminal_safe

    typed = args.clinic.strip()
    meant = None if store.list_dialogues(clinic=typed, limit=1) else likely_clinic(known_clinics(store), typed)
    if meant is None:
        return args.clinic
    said = f"Ingen mottagning heter ”{terminal_safe(typed)}”, men ”{terminal_safe(meant)}” finns."
    if not sys.stdin.isatty():
        raise UserError(
            f"{said} Skriv --clinic \"{terminal_safe(meant)}\", eller --ny för en dialog med namnet som det är skrivet."
        )
    while True:
        reply = ask_line(f"{said} Menade du ”{terminal_safe(meant)}”? [J/n] ", sys.stdin, sys.stdout)
        if reply is None or reply.casefold() in ("", "j", "ja", "y", "yes"):
            return meant
        if reply.casefold() in ("n", "nej", "no"):
            return args.clinic
        print(f"Svara j (använd ”{terminal_safe(meant)}”) eller n (starta med ”{terminal_safe(typed)}”).")


def _already_open(store, args) -> str | None:
    """A clinic with a dialogue in progress (or prepared) gets no second one by mistake: typed, the
    line mode asks whether to continue it (Enter does); piped, it stops with what to do. Returns
    the id to resume, or None to start a new one."""
    from assistant.chat import ask_line
    from assistant.errors import UserError
    from assistant.session import open_dialogue_text, open_dialogues
    from assistant.textsafe import terminal_safe

    found = open_dialogues(store, args.clinic)
    if not found:
        return None
    row = found[0]
    said = f"Det finns redan en {open_dialogue_text(row)} med {terminal_safe(row['clinic'])}."
    if len(found) > 1:
        said += f" (och {len(found) - 1} till, se `dialogstod list --clinic`)"
    if not sys.stdin.isatty():
        raise UserError(f"{said} Fortsätt den med `{_resume_hint(args, row['id'])}`, eller starta en ny ändå med --ny.")
    while True:
        reply = ask_line(f"{said} Fortsätta den? [J/n – n startar en ny] ", sys.stdin, sys.stdout)
        if reply is None or reply.casefold() in ("", "j", "ja", "y", "yes"):
            return row["id"]
        if reply.casefold() in ("n", "nej", "no", "ny"):
            return None
        print("Svara j (fortsätt den) eller n (starta en ny).")


def _install_hangup_handler() -> None:
    """A closed terminal (SIGHUP) or SIGTERM ends the loop like Ctrl-C: everything is already saved."""

    def stop(signum, frame):
        raise KeyboardInterrupt

    for sig in (getattr(signal, "SIGHUP", None), signal.SIGTERM):
        if sig is not None:
            try:
                signal.signal(sig, stop)
            except (ValueError, OSError):  # not the main thread
                pass
    if os.environ.get("DIALOGSTOD_NO_READLINE") is None and sys.stdin.isatty():
        try:
            import readline  # noqa: F401 - line editing and history for typed answers
        except ImportError:
            pass
