"""The one entry point: ``dialogstod`` (no subcommand opens the app).

Each command group lives in ``assistant/commands/<group>.py`` and exposes
``register(subparsers)``; each registered parser sets ``func`` to a function ``(args) -> int``.
Errors the user can act on (``assistant.errors``: ``UserError``, flow, file, dialogue and storage
errors) are printed as one clear line each, exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from assistant.errors import user_error_lines

# The module that registers each command, in the order --help lists them. Only the module of the
# command given is imported (a one-shot command skips the other five, ~25 ms); --help, no command
# or a mistyped one build them all. tests/test_architecture.py checks the table against what
# each module registers.
COMMANDS = {
    "flows": "assistant.commands.flows",
    "chat": "assistant.commands.chat",
    "list": "assistant.commands.archive",
    "show": "assistant.commands.archive",
    "search": "assistant.commands.archive",
    "export": "assistant.commands.archive",
    "bundle": "assistant.commands.archive",
    "actions": "assistant.commands.archive",
    "review": "assistant.commands.archive",
    "correct": "assistant.commands.archive",
    "locate": "assistant.commands.archive",
    "data": "assistant.commands.data",
    "region": "assistant.commands.region",
    "serve": "assistant.commands.app",
}


_ARGPARSE_SV = {
    "usage: ": "användning: ",
    "options": "flaggor",
    "positional arguments": "argument",
    "show this help message and exit": "visa den här hjälpen och avsluta",
    "%(prog)s: error: %(message)s\n": "%(prog)s: fel: %(message)s\n",
    "the following arguments are required: %s": "följande argument krävs: %s",
    "unrecognized arguments: %s": "okända argument: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "ogiltigt val: %(value)r (välj bland %(choices)s)",
    "expected one argument": "ett värde behövs",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s: %(message)s",
    "invalid %(type)s value: %(value)r": "ogiltigt värde: %(value)r",
    "ambiguous option: %(option)s could match %(matches)s": "tvetydig flagga: %(option)s kan vara %(matches)s",
    "not allowed with argument %s": "kan inte kombineras med %s",
}


def _swedish_argparse() -> None:
    """argparse's own words (usage, options, errors) in Swedish, like the rest of --help."""
    argparse._ = lambda text: _ARGPARSE_SV.get(text, text)  # type: ignore[attr-defined]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or only with ``command``'s module (see ``COMMANDS``)."""
    _swedish_argparse()
    parser = argparse.ArgumentParser(
        prog="dialogstod",
        description="Dialogstöd – stöd för uppföljningsdialoger enligt SKR:s UppföljningsDialog (5P).",
        epilog="Utan kommando öppnas appen. Databas: --db, annars $DIALOGSTOD_DB, annars användarens datakatalog.",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help="SQLite-databas att använda (standard: $DIALOGSTOD_DB eller användarens datakatalog)",
    )
    sub = parser.add_subparsers(dest="command", metavar="KOMMANDO", title="kommandon")
    modules = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def command_in(argv: list[str]) -> str | None:
    """The command named in ``argv`` (after the global ``--db PATH``), or None: none, a help
    option first, or a word that is no command."""
    words = iter(argv)
    for word in words:
        if word == "--db":
            next(words, None)
        elif word.startswith("--db="):
            continue
        else:
            return word if word in COMMANDS else None
    return None


# Arguments that name files: kept as the bytes the system gave (Python's surrogateescape), so a
# file whose name is not UTF-8 can still be opened. Every other argument is text to store or match.
PATH_ARGUMENTS = frozenset({"db", "file", "output", "paths"})


def _repair_text_arguments(args: argparse.Namespace) -> None:
    """Text arguments that were not UTF-8 (``--clinic $'V\\xe5rd'``) read as Windows-1252."""
    from assistant.textsafe import repair_undecodable

    for name, value in vars(args).items():
        if name in PATH_ARGUMENTS:
            continue
        if isinstance(value, str):
            setattr(args, name, repair_undecodable(value))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            setattr(args, name, [repair_undecodable(v) for v in value])


def _tolerant_streams() -> None:
    """Bytes on stdin that are not UTF-8 reach the line mode (which repairs them) instead of
    raising; output that cannot be encoded (a path with such bytes) is escaped, never a traceback."""
    for name in ("stdin", "stdout", "stderr"):
        stream = getattr(sys, name, None)
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        wanted = "surrogateescape" if name == "stdin" else "backslashreplace"
        try:
            if stream.errors == "strict" or (name != "stdin" and stream.errors == "surrogateescape"):
                reconfigure(errors=wanted)
        except (ValueError, OSError):  # a closed or detached stream
            pass


def main(argv: list[str] | None = None) -> int:
    _tolerant_streams()
    # Dialogstöd uses no pydantic plugins; looking for them reads every installed package's metadata.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(command_in(argv)).parse_args(argv)
    _repair_text_arguments(args)
    if args.db:
        os.environ["DIALOGSTOD_DB"] = args.db
    func = getattr(args, "func", None)
    if func is None:
        from assistant.commands.app import run_app

        func = run_app
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("\nAvbrutet.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output closed early (e.g. `| head`); not an error for the user.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return 0
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into messages
        lines = user_error_lines(exc)
        if lines is None:
            raise
        from assistant.textsafe import terminal_safe

        for line in lines:
            # Messages quote names and values from files and bundles: never let them act.
            print(f"dialogstod: {terminal_safe(line)}", file=sys.stderr)
        return 2


def run() -> None:
    """The console script (``dialogstod``, ``python -m assistant.cli``): ``main()``, then out.

    A one-shot command has closed its database and written its files when ``main`` returns, so
    the process ends there, without the interpreter's teardown of every module and object
    (~40 ms after loading the flows, a tenth of ``dialogstod show``; ``docs/performance.md``).
    Only when no other thread is running: one still at work is waited for, as Python does."""
    import threading

    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`), a closed stream
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
