"""`dialogstod` (no subcommand) opens the app; `dialogstod serve` runs the same app in a browser."""

from __future__ import annotations

import os
import shlex
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="kör appen i webbläsaren (textual-serve)",
        description=(
            "Kör Dialogstöd i webbläsaren. Varje flik startar en egen app mot samma databas. "
            "Öppna adressen som skrivs ut: den innehåller en hemlig token som gäller tills servern stoppas. "
            "Servern lyssnar bara på 127.0.0.1 om du inte anger --host."
        ),
    )
    p.add_argument("--host", default=DEFAULT_HOST, metavar="HOST", help=f"adress att lyssna på (standard {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="PORT", help=f"port (standard {DEFAULT_PORT})")
    p.set_defaults(func=cmd_serve)


def run_app(args) -> int:
    """Open the Textual app (called by cli.main when no subcommand is given)."""
    from assistant.tui.app import DialogstodApp

    app = DialogstodApp()
    app.run()
    if app.exit_message:
        print(app.exit_message)
    return int(app.return_code or 0)


def serve_command() -> str:
    """The command textual-serve runs per browser tab: this Python, this app (--db via $DIALOGSTOD_DB)."""
    return f"{shlex.quote(sys.executable)} -m assistant.cli"


def cmd_serve(args) -> int:
    from assistant.errors import UserError

    if not 0 < args.port < 65536:
        raise UserError(f"Porten måste vara mellan 1 och 65535, inte {args.port}.")
    from assistant import locations
    from assistant.serve import DialogstodServer, serve_warning

    warning = serve_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)

    os.environ.setdefault(locations.DB_ENV, str(locations.db_path()))
    server = DialogstodServer(serve_command(), host=args.host, port=args.port)
    urls = server.urls()
    print("Dialogstöd körs. Öppna i webbläsaren (adressen innehåller en hemlig token – dela den inte):")
    for url in urls:
        print(f"  {url}")
    print(f"Databas: {locations.db_path()}")
    print("Stoppa med Ctrl+C.", flush=True)
    server.serve()
    return 0
