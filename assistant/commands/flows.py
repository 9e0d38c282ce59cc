"""`dialogstod flows list|show|check`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.textsafe import json_text, terminal_safe

if TYPE_CHECKING:  # the flow models (pydantic, Jinja) load only when a flows command runs
    from assistant.flows import Flow


def register(sub) -> None:
    p = sub.add_parser("flows", help="visa och kontrollera dialogflöden")
    fs = p.add_subparsers(dest="flows_command", metavar="UNDERKOMMANDO", required=True)
    ls = fs.add_parser("list", help="lista flödena: id, titel, antal avsnitt och frågor")
    ls.add_argument("--json", action="store_true", help="skriv JSON")
    ls.set_defaults(func=cmd_list)
    show = fs.add_parser("show", help="visa ett flödes struktur")
    show.add_argument("id", help="flödets id, t.ex. fysioterapi-2023")
    show.add_argument("--json", action="store_true", help="alla avsnitt och frågor i flödesordning som JSON")
    show.set_defaults(func=cmd_show)
    check = fs.add_parser("check", help="kontrollera flödesfiler (exit 0 = giltiga, 2 = fel)")
    check.add_argument("paths", nargs="+", metavar="PATH", help="flödesfiler (.toml), indicators.toml eller topics.toml")
    check.set_defaults(func=cmd_check)


def cmd_list(args) -> int:
    import sys

    from assistant.flows import all_flows

    problems: list[str] = []
    flows = all_flows(problems)
    for line in problems:
        print(f"dialogstod: kunde inte läsa ett flöde: {terminal_safe(line)}", file=sys.stderr)
    if args.json:
        rows = [
            {
                "id": lf.flow.id,
                "title": lf.flow.title,
                "version": lf.flow.version,
                "sections": len(lf.flow.sections),
                "questions": len(lf.flow.questions),
                "path": str(lf.path),
            }
            for lf in flows
        ]
        print(json_text(rows, indent=2))
        return 0
    width = max((len(lf.flow.id) for lf in flows), default=2)
    print(f"{'id':<{width}}  {'avsnitt':>7}  {'frågor':>6}  titel")
    for lf in flows:
        f = lf.flow
        print(f"{f.id:<{width}}  {len(f.sections):>7}  {len(f.questions):>6}  {terminal_safe(f.title)}")
    return 0


def flow_json(flow: Flow) -> dict:
    def question(q) -> dict:
        out = {"id": q.id, "text": q.text, "type": q.type}
        if q.self_text:
            out["self_text"] = q.self_text
        if q.help:
            out["help"] = q.help
        if q.choices:
            out["choices"] = [c.model_dump() for c in q.choices]
        if q.indicators:
            out["indicators"] = list(q.indicators)
        if q.when is not None:
            out["when"] = q.when.model_dump(by_alias=True)
        return out

    sections = []
    for s in flow.sections:
        entry = {
            "id": s.id,
            "area": s.area,
            "title": s.title,
            "kind": s.kind,
            "minutes": s.minutes,
            "questions": [question(q) for q in s.questions],
        }
        if s.intro:
            entry["intro"] = s.intro
        if s.subareas:
            entry["subareas"] = [
                {"id": sub.id, "title": sub.title, "questions": [question(q) for q in sub.questions]}
                for sub in s.subareas
            ]
        sections.append(entry)
    return {
        "id": flow.id,
        "title": flow.title,
        "version": flow.version,
        "provenance": flow.provenance,
        "language": flow.language,
        "meeting_minutes": flow.meeting_minutes,
        "phases": [p.model_dump() for p in flow.phases],
        "roles": [r.model_dump() for r in flow.roles],
        "sections": sections,
        "questions": [{"id": q.id, "section": flow.section_of[q.id].id, "text": q.text} for q in flow.questions],
        "rules": [r.id for r in flow.rules],
    }


def cmd_show(args) -> int:
    from assistant.flows import get_flow

    flow = get_flow(args.id).flow
    if args.json:
        print(json_text(flow_json(flow), indent=2))
        return 0
    lines = [f"{flow.title}  ({flow.id}, version {flow.version})", f"Källa: {flow.provenance}", f"Mötestid: {flow.meeting_minutes} min"]
    for phase in flow.phases:
        lines += ["", phase.title] + [f"  – {line}" for line in phase.instructions]
    for s in flow.sections:
        lines += ["", f"── {flow.section_label(s)} ({s.minutes} min)"]
        lines += [f"   {q.id}: {q.text}" for q in s.questions]
        for sub in s.subareas:
            lines.append(f"   {sub.title}")
            lines += [f"     {q.id}: {q.text}" for q in sub.questions]
    print(terminal_safe("\n".join(lines)))
    return 0


def cmd_check(args) -> int:
    from assistant.flows import FlowError, default_catalogue, is_catalogue, is_method, load_flow
    from assistant.indicators import load_catalogue
    from assistant.tomlfiles import read_toml
    from assistant.topics import default_topics, is_topics_file

    problems: list[str] = []
    ok = 0
    catalogue = topics = None
    try:
        catalogue = default_catalogue()
    except FlowError as exc:
        problems += exc.problems
    try:
        topics = default_topics()
    except FlowError as exc:
        problems += exc.problems
    for raw in args.paths:
        path = Path(raw)
        try:
            data = read_toml(path)
            if is_method(path):
                from assistant.method import load_method

                load_method(path)
            elif is_catalogue(data, path):
                load_catalogue(path)
            elif is_topics_file(data, path):
                check_topics_file(path, catalogue)
            else:
                load_flow(path, catalogue, strict=True, topics=topics)
            ok += 1
        except FlowError as exc:
            problems += exc.problems
    for line in problems:
        print(terminal_safe(line))
    if problems:
        print(f"{len(problems)} fel i {len(args.paths) - ok} av {len(args.paths)} filer.")
        return 2
    print(f"{ok} {'fil' if ok == 1 else 'filer'} OK.")
    return 0


def check_topics_file(path: Path, catalogue) -> None:
    """A topic catalogue on its own, then against every flow a user can pick (each topic's questions
    must exist in each flow that uses it). Raises FlowError."""
    from assistant.flows import FlowError, flow_files, load_flow
    from assistant.topics import check_against_flow, check_flow_ids, load_topics

    topics = load_topics(path)
    problems: list[str] = []
    files = flow_files()
    problems += check_flow_ids(topics, set(files), str(path))
    for flow_path in files.values():
        try:
            flow = load_flow(flow_path, catalogue).flow
        except FlowError:
            continue  # a broken flow is reported when that file is checked
        problems += check_against_flow(topics, flow, str(path), catalogue.ids if catalogue is not None else None)
    if problems:
        raise FlowError(problems)
