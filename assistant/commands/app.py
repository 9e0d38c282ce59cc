"""`dialogstod` (no subcommand) opens the app; `dialogstod serve` runs the same app in a browser."""

from __future__ import annotations

import ipaddress
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
            "Ingen inloggning: lyssna bara på 127.0.0.1 om du inte vet vad du gör."
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


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_warning(host: str) -> str | None:
    """A warning to print when the server can be reached from other machines, else None."""
    if is_loopback(host):
        return None
    return (
        f"VARNING: Dialogstöd lyssnar på {host}. Det finns ingen inloggning – alla som når den här "
        "adressen kan läsa och ändra alla dialoger i databasen. Använd 127.0.0.1 (standard) om du "
        "inte har skyddat åtkomsten på annat sätt."
    )


def serve_command() -> str:
    """The command textual-serve runs per browser tab: this Python, this app (--db via $DIALOGSTOD_DB)."""
    return f"{shlex.quote(sys.executable)} -m assistant.cli"


def cmd_serve(args) -> int:
    from assistant.cli import UserError

    if not 0 < args.port < 65536:
        raise UserError(f"Porten måste vara mellan 1 och 65535, inte {args.port}.")
    warning = serve_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    from textual_serve.server import Server

    from assistant import locations

    os.environ.setdefault(locations.DB_ENV, str(locations.db_path()))
    server = Server(serve_command(), host=args.host, port=args.port, title="Dialogstöd")
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Dialogstöd körs på http://{shown}:{args.port} – stoppa med Ctrl+C.")
    print(f"Databas: {locations.db_path()}")
    server.serve()
    return 0
