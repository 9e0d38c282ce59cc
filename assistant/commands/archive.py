"""Reviewing past dialogues: list, show, search, export, bundle, actions, correct, locate."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from assistant.labels import STATUS_WORDS as STATUS_SV
from assistant.textsafe import json_array, json_text, one_line, terminal_safe


def _status(text: str) -> str:
    """`list --status`: the word the list shows (pågår, förberedd, avslutad) or the stored id
    (in_progress, prepared, finished), in any case."""
    import argparse

    wanted = " ".join(text.split()).casefold()
    for status, word in STATUS_SV.items():
        if wanted in (status, word):
            return status
    raise argparse.ArgumentTypeError(f"okänd status {text!r} (skriv {', '.join(STATUS_SV.values())})")

KIND_SV = {"prompted": "fråga", "answered": "svar", "noted": "anteckning", "action_added": "åtgärd",
           "corrected": "rättelse", "started": "mottagning"}


def register(sub) -> None:
    p = sub.add_parser("list", help="lista dialoger")
    p.add_argument("--clinic", metavar="NAMN", help="bara den här mottagningen")
    p.add_argument("--flow", metavar="ID", help="bara det här flödet")
    p.add_argument(
        "--status",
        type=_status,
        metavar="STATUS",
        help=f"bara dialoger med den här statusen: {', '.join(STATUS_SV.values())} "
        f"(eller {', '.join(STATUS_SV)})",
    )
    p.add_argument("--year", type=int, metavar="ÅR", help="bara dialoger som började det här året")
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="visa en dialog som läsbar text")
    p.add_argument("id", help="dialogens id (eller början av det)")
    p.add_argument("--ids", action="store_true", help="visa frågornas id (för `correct`)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("search", help="fritextsök i alla dialoger (t.ex. avvik*)")
    p.add_argument("query", nargs="+", help="sökord; avsluta ett ord med * för prefixsökning")
    p.add_argument("--clinic", metavar="NAMN")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="skriv JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("export", help="exportera en dialog: md, html, docx eller json")
    p.add_argument("id", help="dialogens id (eller början av det)")
    p.add_argument("--format", "-f", choices=("md", "html", "json", "docx"), default="html")
    p.add_argument(
        "--pack",
        action="store_true",
        help="underlaget inför mötet (data, förra årets åtgärder och önskemål, fokusområden, plan) i stället för dokumentationen",
    )
    p.add_argument("-o", "--output", metavar="FIL", help="filnamn (standard: ett namn i aktuell katalog; - för stdout)")
    p.add_argument("--world-readable", action="store_true", help="skriv filen läsbar för alla (0644) i stället för 0600")
    p.add_argument("--parents", action="store_true", help="skapa kataloger som saknas i sökvägen")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("bundle", help="flytta dialoger mellan datorer")
    bs = p.add_subparsers(dest="bundle_command", metavar="UNDERKOMMANDO", required=True)
    be = bs.add_parser("export", help="packa dialoger i en fil")
    be.add_argument("ids", nargs="+", metavar="ID")
    be.add_argument("-o", "--output", required=True, metavar="FIL")
    be.add_argument("--parents", action="store_true", help="skapa kataloger som saknas i sökvägen")
    be.set_defaults(func=cmd_bundle_export)
    bi = bs.add_parser("import", help="läs in dialoger från en fil (samma fil två gånger lägger inte till något)")
    bi.add_argument("file", metavar="FIL")
    bi.set_defaults(func=cmd_bundle_import)

    p = sub.add_parser("actions", help="lista och ändra åtgärder från alla dialoger (försenade markeras)")
    p.add_argument("--clinic", metavar="NAMN")
    p.add_argument("--open", action="store_true", help="bara öppna åtgärder")
    p.add_argument("--overdue", action="store_true", help="bara försenade åtgärder (öppna, datumet passerat)")
    p.add_argument("--done", metavar="DIALOG:ÅTGÄRD", help="markera en åtgärd som klar, t.ex. 3f2a91c0:a2")
    p.add_argument("--reopen", metavar="DIALOG:ÅTGÄRD", help="öppna en klar åtgärd igen")
    p.add_argument("--set", metavar="DIALOG:ÅTGÄRD", help="ändra ansvarig och/eller datum (--owner, --due)")
    p.add_argument("--owner", metavar="NAMN", help="med --set: ansvarig (tom text tar bort)")
    p.add_argument("--due", metavar="ÅÅÅÅ-MM-DD", help="med --set: klart senast (tom text tar bort)")
    p.add_argument("--who", metavar="NAMN", help="vem som ändrar (sparas i dialogens logg)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_actions)

    p = sub.add_parser(
        "review",
        help="granskningen av dokumentationen: skickad, kommenterad, godkänd",
        description="Registrera ett steg i granskningen av dialogens dokumentation (sparas som en händelse), "
        "eller visa granskningen hittills (utan --status).",
    )
    p.add_argument("id", help="dialogens id (eller början av det)")
    p.add_argument(
        "--status",
        choices=("sent", "commented", "approved"),
        help="sent: skickad till mottagningen, commented: mottagningens kommentarer/rättelser, approved: godkänd",
    )
    p.add_argument("--who", metavar="NAMN", help="vem (skickade, kommenterade, godkände)")
    p.add_argument("--note", metavar="TEXT", help="kommentaren eller rättelsen (krävs för commented)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("correct", help="rätta ett svar efter mötet (sparas som en rättelse, inget skrivs över)")
    p.add_argument("id", help="dialogens id")
    p.add_argument("question", help="frågans id (se `dialogstod show ID --ids`)")
    p.add_argument("text", help="den nya texten")
    p.add_argument("--who", metavar="NAMN", help="vem som rättar")
    p.set_defaults(func=cmd_correct)

    p = sub.add_parser("locate", help="visa var databas, flöden och mallar finns")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--check",
        action="store_true",
        help="kontrollera hela databasfilen (vid varje öppning kontrolleras den bara efter en krasch)",
    )
    p.set_defaults(func=cmd_locate)


def _store(*, create: bool = False):
    """The database; a command that only reads (the most) does not create one at a mistyped --db."""
    from assistant.database import open_store

    return open_store(create=create)


def _dialogue(store, ref: str):
    from assistant.errors import UserError
    from assistant.session import Dialogue, DialogueError

    try:
        d = Dialogue.resume(store, ref)
    except DialogueError as exc:
        raise UserError(str(exc)) from None
    d.on_wait = lambda message: print(f"dialogstod: {message}", file=sys.stderr, flush=True)  # a busy database
    return d


def dialogue_json(row: dict) -> dict:
    return {
        "id": row["id"],
        "clinic": row["clinic"],
        "flow": row["flow_id"],
        "flow_version": row["flow_version"],
        "mode": row["mode"],
        "status": row["status"],
        "review": row.get("review"),
        "started": row["started"],
        "updated": row["updated"],
    }


def _print_json_list(items) -> None:
    for piece in json_array(items, default=str):
        sys.stdout.write(piece)


def cmd_list(args) -> int:
    """Rows are printed as they are read (``Store.iter_dialogues``): listing 100 000 dialogues
    holds one batch of them, not all."""
    from assistant.labels import review_label

    with _store() as store:
        rows = store.iter_dialogues(clinic=args.clinic, flow=args.flow, status=args.status, year=args.year)
        if args.json:
            _print_json_list(dialogue_json(r) for r in rows)
            return 0
        shown = 0
        for r in rows:
            if not shown:
                print(f"{'id':<8}  {'start':<16}  {'status':<9}  {'granskning':<12}  {'flöde':<16}  mottagning")
            shown += 1
            started = str(r["started"])[:16].replace("T", " ")
            status = STATUS_SV.get(r["status"], r["status"])
            review = review_label(r.get("review")) if r["status"] == "finished" or r.get("review") else "–"
            print(
                f"{one_line(r['id'][:8]):<8}  {one_line(started):<16}  {status:<9}  {review:<12}  "
                f"{one_line(r['flow_id'], 40):<16}  {one_line(r['clinic'], 60)}"
            )
    if not shown:
        print("Inga dialoger." + ("" if any((args.clinic, args.flow, args.status, args.year)) else " Starta en med `dialogstod chat` eller `dialogstod`."))
    return 0


def cmd_show(args) -> int:
    from assistant.export import transcript_text

    with _store() as store:
        d = _dialogue(store, args.id)
        sys.stdout.write(transcript_text(d.state, d.row, ids=args.ids))
    return 0


def cmd_search(args) -> int:
    query = " ".join(args.query)
    with _store() as store:
        hits = store.search(query, limit=args.limit, clinic=args.clinic)
    if args.json:
        print(json_text(hits, indent=2, default=str))
        return 0
    if not hits:
        print(f"Inga träffar för {terminal_safe(query)!r}.")
        return 0
    for h in hits:
        when = str(h["at"])[:10]
        kind = KIND_SV.get(h["kind"], h["kind"])
        print(f"{one_line(h['dialogue_id'][:8])}  {one_line(when)}  {one_line(h['clinic'], 30)}  [{one_line(kind)}]")
        print(f"    {one_line(h['snippet'], 110)}")
    print(f"{len(hits)} {'träff' if len(hits) == 1 else 'träffar'}.")
    return 0


def cmd_export(args) -> int:
    from assistant.errors import UserError, no_such_dialogue
    from assistant.export import default_filename
    from assistant.fileio import write_regular

    if args.pack and args.format == "json":
        raise UserError("Underlaget inför mötet finns som html, md eller docx (--format).")
    with _store() as store:
        if args.format == "json":  # the log as stored: no flow to load, nothing to replay
            from assistant.bundles import export_dialogue_json

            row = store.get_dialogue(args.id)
            if row is None:
                raise UserError(no_such_dialogue(args.id))
            data = export_dialogue_json(store, row["id"]).encode("utf-8")
            status = row["status"]
        else:
            from assistant.engine import utcnow
            from assistant.export import export_bytes, pack_bytes

            d = _dialogue(store, args.id)
            row, status = d.row, d.state.status
            if args.pack:
                data = pack_bytes(store, d, args.format, generated=utcnow())
            else:
                data = export_bytes(store, d.state, d.row, args.format, generated=utcnow())
    if args.output == "-":
        if args.format == "docx" and sys.stdout.isatty():
            raise UserError("En docx-fil kan inte skrivas till terminalen; ange en fil med -o.")
        binary = getattr(sys.stdout, "buffer", None)
        if binary is not None:
            sys.stdout.flush()
            binary.write(data)
        else:
            sys.stdout.write(data.decode("utf-8", "replace"))
        return 0
    name = default_filename(row, args.format, pack=args.pack)
    path = Path(args.output) if args.output else Path(name)
    write_regular(path, data, mode=0o644 if args.world_readable else 0o600, parents=args.parents)
    print(f"Skrev {path} ({len(data):,} byte).".replace(",", "\u00a0"))
    if status == "prepared" and not args.pack:
        print(f"Dialogen är förberedd men inte hållen: underlaget inför mötet får du med `dialogstod export {row['id'][:8]} --pack`.")
    return 0


def cmd_bundle_export(args) -> int:
    from assistant.bundles import export_bundle
    from assistant.errors import UserError

    with _store() as store:
        ids = []
        for ref in args.ids:
            row = store.get_dialogue(ref)
            if row is None:
                raise UserError(f"Det finns ingen dialog {ref!r}.")
            ids.append(row["id"])
        count = export_bundle(store, ids, args.output, parents=args.parents)
    print(f"Packade {count} {'dialog' if count == 1 else 'dialoger'} i {args.output}.")
    return 0


def cmd_bundle_import(args) -> int:
    from assistant.bundles import import_bundle

    with _store(create=True) as store:
        result = import_bundle(store, args.file)
    extended = result.get("extended", 0)
    new = result["imported"] - extended
    parts = [f"{new} {'ny dialog' if new == 1 else 'nya dialoger'}"]
    if extended:
        parts.append(f"{extended} {'dialog' if extended == 1 else 'dialoger'} med nya händelser")
    if result.get("already_present"):
        parts.append(f"{result['already_present']} fanns redan")
    print(f"Läste in {', '.join(parts)} från {args.file}.")
    return 0


def _split_action_ref(ref: str) -> tuple[str, str]:
    from assistant.errors import UserError

    dialogue, sep, action = ref.partition(":")
    if not sep or not dialogue or not action:
        raise UserError("Ange åtgärden som DIALOG:ÅTGÄRD, t.ex. 3f2a91c0:a2 (se `dialogstod actions`).")
    return dialogue, action


def cmd_actions(args) -> int:
    from assistant.errors import UserError

    if (args.owner is not None or args.due is not None) and not args.set:
        raise UserError("--owner och --due ändrar en åtgärd som anges med --set DIALOG:ÅTGÄRD.")
    if args.set and args.owner is None and args.due is None:
        raise UserError("Ange vad som ska ändras: --owner NAMN och/eller --due ÅÅÅÅ-MM-DD.")
    with _store() as store:
        for ref, status in ((args.done, "done"), (args.reopen, "open"), (args.set, None)):
            if ref:
                from assistant import engine as E

                dialogue_ref, action_id = _split_action_ref(ref)
                d = _dialogue(store, dialogue_ref)
                command = E.UpdateAction(action_id, status=status, who=args.who, owner=args.owner, due=args.due)
                try:
                    d.do(command)
                except E.EngineError as exc:
                    raise UserError(str(exc)) from None
                a = d.state.actions[action_id]
                if status is not None:
                    print(
                        f"Åtgärd {terminal_safe(action_id)} i dialog {terminal_safe(d.id[:8])} är nu "
                        f"{'klar' if status == 'done' else 'öppen'}."
                    )
                else:
                    print(
                        f"Åtgärd {terminal_safe(action_id)} i dialog {terminal_safe(d.id[:8])}: ansvarig "
                        f"{terminal_safe(a.owner or '–')}, klart senast {a.due or '–'}."
                    )
                return 0
        rows = _actions(store, args.clinic, open_only=args.open or args.overdue, overdue_only=args.overdue)
        if args.json:
            _print_json_list(rows)
            return 0
        shown, overdue = _print_actions(rows)
    if overdue:
        print(f"{overdue} {'åtgärd är försenad' if overdue == 1 else 'åtgärder är försenade'} (⚠).")
    if not shown:
        print("Inga försenade åtgärder." if args.overdue else "Inga åtgärder.")
    return 0


def _actions(store, clinic: str | None, *, open_only: bool, overdue_only: bool):
    """The actions as they are read (``Store.iter_actions``), each with ``overdue``."""
    from assistant.labels import action_overdue, local_today

    today = local_today()
    for a in store.iter_actions(clinic=clinic, open_only=open_only):
        a["overdue"] = action_overdue(a["status"], a.get("due"), today)
        if a["overdue"] or not overdue_only:
            yield a


def _print_actions(rows) -> tuple[int, int]:
    """Print each action (two lines: the action, then owner, due date and whether it is late),
    written in batches as they are read; returns how many were shown and how many are late."""
    from assistant.labels import OVERDUE

    late = OVERDUE.upper()
    shown = overdue = 0
    lines: list[str] = []
    for a in rows:
        shown += 1
        overdue += a["overdue"]
        mark = "⚠" if a["overdue"] else "☐" if a["status"] == "open" else "☑"
        ref = one_line(f"{a['dialogue_id'][:8]}:{a['action_id']}", 40)
        lines.append(f"{mark} {ref}  {one_line(a['clinic'], 28)}  {one_line(a['text'], 70)}\n")
        extra = [x for x in (a["owner"] and f"ansvarig {a['owner']}", a["due"] and f"klart senast {a['due']}") if x]
        if a["overdue"]:
            extra.append(late)
        if extra:
            lines.append(f"      {terminal_safe(' · '.join(extra))}\n")
        if len(lines) >= 512:
            sys.stdout.write("".join(lines))
            lines.clear()
    sys.stdout.write("".join(lines))
    return shown, overdue


def cmd_review(args) -> int:
    from assistant import engine as E
    from assistant.errors import UserError
    from assistant.report import review_label, review_step_label

    with _store() as store:
        d = _dialogue(store, args.id)
        if args.status:
            try:
                made = d.do(E.Review(args.status, who=args.who, note=args.note))
            except E.EngineError as exc:
                raise UserError(str(exc)) from None
            if any(e.kind == "pii_masked" for e in made):
                print("Ett personnummer upptäcktes och maskerades innan kommentaren sparades.")
        elif args.who or args.note:
            raise UserError("--who och --note hör till ett granskningssteg: ange också --status.")
    st = d.state
    if args.json:
        steps = [
            {"status": r.status, "who": r.who, "note": r.note, "at": r.at.isoformat()} for r in st.review
        ]
        print(json_text({"id": d.id, "review": st.review_status, "steps": steps}, indent=2))
        return 0
    if args.status:
        print(f"Granskningen av dialog {terminal_safe(d.id[:8])} är nu: {review_label(st.review_status)}.")
        return 0
    print(f"Dialog {terminal_safe(d.id[:8])} ({terminal_safe(d.clinic)}): {review_label(st.review_status)}.")
    for r in st.review:
        when = r.at.astimezone().strftime("%Y-%m-%d %H:%M")
        who = f" ({terminal_safe(r.who)})" if r.who else ""
        print(f"  {when}  {review_step_label(r.status, d.flow)}{who}")
        if r.note:
            print(f"      {one_line(r.note, 110)}")
    if not st.review and st.finished:
        print("  Skicka dokumentationen med: dialogstod review " + d.id[:8] + " --status sent --who NAMN")
    return 0


def cmd_correct(args) -> int:
    from assistant import engine as E
    from assistant.errors import UserError

    with _store() as store:
        d = _dialogue(store, args.id)
        try:
            made = d.do(E.Correct(args.question, args.text, who=args.who))
        except E.EngineError as exc:
            raise UserError(str(exc)) from None
    if any(e.kind == "pii_masked" for e in made):
        print("Ett personnummer upptäcktes och maskerades innan rättelsen sparades.")
    print(f"Rättelsen är sparad i dialog {d.id[:8]}; exporten visar den nya texten.")
    return 0


def _mode(path: Path) -> str:
    try:
        return oct(stat.S_IMODE(os.stat(path).st_mode))
    except OSError:
        return "-"


def cmd_locate(args) -> int:
    from assistant import locations

    db = locations.db_path()
    places = {
        "database": str(db),
        "database_exists": db.exists(),
        "data_dir": str(locations.data_dir()),
        "flows": str(locations.shipped_flows_dir()),
        "user_flows": str(locations.user_flows_dir()),
        "templates": str(locations.templates_dir()),
    }
    if args.check:
        places["database_checked"] = _check(db)
    if args.json:
        print(json_text(places, indent=2))
        return 0
    print(f"Databas:          {db}" + ("" if db.exists() else " (skapas vid första användningen)"))
    if db.exists():
        print(f"  behörighet:     {_mode(db)} (katalog {_mode(db.parent)})")
    print(f"Datakatalog:      {places['data_dir']}")
    print(f"Flöden:           {places['flows']}")
    print(f"Egna flöden:      {places['user_flows']}")
    print(f"Mallar:           {places['templates']}")
    if args.check:
        print("Kontroll:         hela databasfilen är läsbar och hel.")
    return 0


def _check(db: Path) -> bool:
    """Check the whole database file (a damaged one is a StorageError, exit code 2)."""
    from storage import Store

    with Store.open(db, create=False) as store:
        store.check()
    return True
