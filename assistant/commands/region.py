"""`dialogstod region`: the region's overview across its clinics (md, html, json, docx)."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "region",
        help="regionöversikt: alla mottagningar, deras dialoger, granskning och åtgärder, teman och data",
        description="Regionens översikt: per mottagning senaste dialog, status och granskning, berörda och "
        "ej berörda områden, fokusområden, åtgärder (öppna, försenade, klara) och önskemål till nästa möte; "
        "samlad återkoppling, oftast valda och ej berörda områden, återkommande teman och varje indikator "
        "för alla mottagningar. Utan --year: varje mottagnings senaste dialog och alla dess åtgärder.",
    )
    p.add_argument("--year", type=int, metavar="ÅR", help="bara dialoger som började det här året (och deras åtgärder)")
    p.add_argument("--flow", metavar="ID", help="bara dialoger med det här flödet")
    p.add_argument("--format", "-f", choices=("md", "html", "json", "docx"), default="md")
    p.add_argument("-o", "--output", metavar="FIL", help="skriv till en fil (standard: skärmen; docx kräver en fil)")
    p.add_argument("--world-readable", action="store_true", help="skriv filen läsbar för alla (0644) i stället för 0600")
    p.add_argument("--parents", action="store_true", help="skapa kataloger som saknas i sökvägen")
    p.set_defaults(func=cmd_region)


def cmd_region(args) -> int:
    from assistant.database import open_store
    from assistant.engine import utcnow
    from assistant.errors import UserError
    from assistant.fileio import write_regular
    from assistant.region import region_bytes

    if args.year is not None and not 1900 <= args.year <= 2200:
        raise UserError(f"Året {args.year} är inget rimligt år.")
    if args.flow:
        from assistant.flows import flow_files

        if args.flow not in flow_files():
            known = ", ".join(sorted(flow_files())) or "inga"
            raise UserError(f"Det finns inget flöde {args.flow!r}. Tillgängliga flöden: {known}")
    if args.format == "docx" and not args.output:
        raise UserError("En docx-fil kan inte skrivas till terminalen; ange en fil med -o.")
    with open_store(create=False) as store:
        data = region_bytes(store, args.format, year=args.year, flow=args.flow, generated=utcnow())
    if not args.output or args.output == "-":
        binary = getattr(sys.stdout, "buffer", None)
        if binary is not None:
            sys.stdout.flush()
            binary.write(data)
        else:
            sys.stdout.write(data.decode("utf-8", "replace"))
        return 0
    path = Path(args.output)
    write_regular(path, data, mode=0o644 if args.world_readable else 0o600, parents=args.parents)
    print(f"Skrev {path} ({len(data):,} byte).".replace(",", "\u00a0"))
    return 0
