"""``dialogstod data``: import indicator data and show what deserves a question.

dialogstod data import FIL          importera en CSV- eller .xlsx-fil (allt eller inget)
dialogstod data flags --clinic NAMN [--period P] [--json]
dialogstod data demo                importera den påhittade demofilen
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from assistant.errors import UserError
from assistant.textsafe import json_text, terminal_safe

PAYMENT_NOTE = (
    "Flaggorna är underlag för frågor i dialogen – inte betyg, rangordning eller grund för ersättning "
    "(PrimärvårdsKvalitet avråder från att koppla indikatorutfall till ersättning). Slumpen, "
    "patientgruppen, uppdraget och hur data registreras kan förklara skillnader."
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "data",
        help="indikatordata: importera och visa flaggor",
        description="Importera indikatordata och se vad som kan vara värt en fråga i dialogen.",
    )
    sub = parser.add_subparsers(dest="data_command", metavar="DATAKOMMANDO", title="datakommandon")

    imp = sub.add_parser(
        "import",
        help="importera en indikatorfil (CSV eller .xlsx)",
        description=(
            "Importera en indikatorfil i långt format: en rad per enhet, indikator och period. "
            "Kolumner: enhet, indikator, period, täljare, nämnare, värde, (riktning, mål). "
            "Innehåller filen något fel importeras ingenting."
        ),
    )
    imp.add_argument("file", metavar="FIL", help="CSV (; , eller tabb) eller .xlsx")
    imp.set_defaults(func=lambda args: cmd_import(args.file))

    flags = sub.add_parser(
        "flags",
        help="visa flaggor för en enhet",
        description="Visa indikatorvärden med osäkerhet, jämförelse med andra enheter och förra perioden.",
    )
    flags.add_argument(
        "--clinic", required=True, metavar="NAMN", help="enhetens namn som i den importerade filen"
    )
    flags.add_argument("--period", metavar="P", default=None, help="bara denna period (standard: alla)")
    flags.add_argument("--json", action="store_true", help="skriv en JSON-lista i stället för en tabell")
    flags.set_defaults(func=lambda args: cmd_flags(args.clinic, args.period, args.json))

    demo = sub.add_parser(
        "demo",
        help="importera den påhittade demofilen",
        description="Importera den medföljande, helt påhittade demofilen så att du kan prova flaggorna.",
    )
    demo.set_defaults(func=lambda args: cmd_demo())

    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# ---------------------------------------------------------------- helpers


def _open_store(*, create: bool = True):
    from assistant.database import open_store

    return open_store(create=create)


# ---------------------------------------------------------------- commands


def _import(file: str | Path, source: str | None, shown: str) -> None:
    from assistant.data.importer import import_summary, read_indicator_file

    rows, source = read_indicator_file(file, source)  # a file with errors leaves the database as it was
    with _open_store() as store:
        counts = store.replace_indicator_values(rows, source=source)
    print(import_summary(len(rows), counts, shown))


def cmd_import(file: str) -> int:
    _import(file, None, file)
    return 0


def cmd_demo() -> int:
    from assistant.data import DEMO_FILE

    _import(DEMO_FILE, "demo: " + DEMO_FILE.name, DEMO_FILE.name + " (påhittade exempeldata)")
    print('Prova: dialogstod data flags --clinic "Fysio Norr (påhittad)"')
    return 0


def cmd_flags(clinic: str, period: str | None, as_json: bool) -> int:
    from assistant.data.flags import clinic_key, compute_flags, flag_to_json
    from assistant.data.importer import load_indicator_catalogue
    from assistant.data.stats import period_key
    from assistant.flagview import FlowKinds

    catalogue = load_indicator_catalogue()
    with _open_store(create=False) as store:
        rows = store.indicator_values()
        if not rows:
            raise UserError(
                "Det finns ingen indikatordata ännu.",
                "Importera med: dialogstod data import FIL – eller prova: dialogstod data demo",
            )
        names: dict[str, str] = {}
        for r in rows:
            names.setdefault(clinic_key(r["clinic"]), r["clinic"])
        key = clinic_key(clinic)
        if key not in names:
            from assistant.data.peers import likely_clinic

            meant = likely_clinic(list(names.values()), clinic)  # "Fysio Norr" for "Fysio Norr (påhittad)", as in the app
            if meant is not None:
                print(f"dialogstod: Visar ”{terminal_safe(meant)}” – det enda namnet i datan som passar.", file=sys.stderr)
                key = clinic_key(meant)
        if key not in names:
            listing = sorted(names.values(), key=str.casefold)
            raise UserError(
                f"Ingen data för enheten {clinic!r}.",
                "Enheter med data: " + "; ".join(listing),
            )
        name = names[key]
        if period is not None:
            period = period.strip()
            periods = sorted({r["period"] for r in rows if clinic_key(r["clinic"]) == key}, key=period_key)
            if period not in periods:
                raise UserError(
                    f"Ingen data för {name} under perioden {period!r}.",
                    "Perioder med data: " + ", ".join(periods),
                )
        # The dialogues' flows are read only for a clinic whose peers the data does not give.
        flags = compute_flags(rows, catalogue, name, period, flow_kinds=FlowKinds(store))
    if as_json:
        print(json_text([flag_to_json(f) for f in flags], indent=2))
        return 0
    print(terminal_safe(render_table(name, flags)))
    return 0


def render_table(clinic: str, flags: list[Any]) -> str:
    """One line per indicator and period (period, label, flags in words, text); below it the series
    as a sparkline and the position among the peers (``data/charts.py``), then the notes."""
    from assistant.data.charts import STRIP_LEGEND, chart_data, text_lines

    lines = [f"Indikatorer för {clinic}", f"Läge bland jämförbara enheter: {STRIP_LEGEND}", ""]
    width = max((len(f.label) for f in flags), default=10)
    period_width = max((len(f.period) for f in flags), default=6)
    for f in flags:
        if f.states:
            words = ", ".join(f.state_labels)
        elif f.peer_position:  # a neutral indicator far from its peers: no verdict, but worth a question
            words = f"{'högre' if f.peer_position == 'higher' else 'lägre'} än jämförbara enheter, ingen värdering"
        elif f.change_position:  # a neutral indicator that moved beyond its usual variation
            words = f"{'högre' if f.change_position == 'higher' else 'lägre'} än tidigare, ingen värdering"
        else:
            words = "ingen flagga"
        lines.append(f"{f.period:<{period_width}}  {f.label:<{width}}  [{words}]  {f.text}")
        for picture in text_lines(chart_data(f)):
            lines.append(f"{'':<{period_width}}  {'':<{width}}    {picture}")
        for note in f.notes:
            lines.append(f"{'':<{period_width}}  {'':<{width}}    obs: {note}")
    from assistant.flagstates import flagged as worth_asking

    flagged = len(worth_asking(flags))
    few = sum(1 for f in flags if f.states == ["insufficient_data"])
    lines.append("")
    lines.append(
        f"{len(flags)} rader: {flagged} med något att fråga om, {few} med för lite underlag för slutsatser."
    )
    lines.append(PAYMENT_NOTE)
    return "\n".join(lines)
