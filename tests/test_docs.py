"""README's command table and `dialogstod --help` say the same: every command and every option in
one is in the other.

The CLI side is read from the help text a user sees (`dialogstod --help`, then `--help` of each
command and subcommand), not from argparse's internals. The README side is the table under
"## Commands": in its first column, each `…` is a command line whose leading lower-case words are
the command (`flows show ID [--json]`), capitals are values (ID, NAME, FILE …) and `--x` / `-x`
are options.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import pytest

from assistant.cli import main
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def help_text(*command: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    return out.getvalue()


_SUBCOMMANDS = re.compile(r"^  [A-ZÅÄÖ]+\n((?:    .*\n)+)", re.M)  # the metavar, then the commands
_OPTION_LINE = re.compile(r"^  (-\S.*?)(?:  |$)", re.M)


def cli_commands() -> dict[tuple[str, ...], set[frozenset[str]]]:
    """Each command a user can run (a path of subcommand names) -> its options, each option the
    set of its spellings ({"-o", "--output"}). The path () is the app, opened without a command."""
    found: dict[tuple[str, ...], set[frozenset[str]]] = {}

    def visit(path: tuple[str, ...]) -> None:
        text = help_text(*path)
        options = {
            frozenset(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", head)) for head in _OPTION_LINE.findall(text)
        }
        options.discard(frozenset({"-h", "--help"}))
        block = _SUBCOMMANDS.search(text)
        if block is None:
            found[path] = options
            return
        if path == ():
            found[()] = options  # `dialogstod` alone opens the app; --db is for every command
        for name in re.findall(r"^    (\S+)", block.group(1), re.M):
            visit((*path, name))

    visit(())
    return found


def readme_commands() -> dict[tuple[str, ...], set[str]]:
    """Each command in README's table -> the options written with it."""
    table = README[README.index("## Commands") :]
    table = table[: table.index("\n## ", 1)]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert rows, "no command table under ## Commands"
    found: dict[tuple[str, ...], set[str]] = {}
    for row in rows:
        first = re.split(r"(?<!\\)\|", row)[1]
        for line in re.findall(r"`([^`]+)`", first):
            words = line.replace("\\|", "|").split()
            if words[0] == "dialogstod":
                words = words[1:]
            path = []
            for word in words:
                if not re.fullmatch(r"[a-z][a-z-]*", word):
                    break
                path.append(word)
            options = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line))
            found.setdefault(tuple(path), set()).update(options)
    return found


CLI = cli_commands()
DOCUMENTED = readme_commands()


def test_the_parsers_find_what_is_there():
    # a few fixed points, so that a parser that finds nothing cannot pass the tests below
    assert ("flows", "check") in CLI and ("data", "flags") in CLI and ("bundle", "import") in CLI
    assert frozenset({"-o", "--output"}) in CLI[("export",)]
    assert ("chat",) in DOCUMENTED and "--resume" in DOCUMENTED[("chat",)]
    assert len(CLI) >= 15


def test_every_command_of_the_cli_is_in_the_readme():
    missing = sorted(" ".join(path) or "(the app)" for path in CLI if path not in DOCUMENTED)
    assert not missing, f"README's command table lacks: {missing}"


def test_every_command_in_the_readme_exists():
    unknown = sorted(" ".join(path) or "(the app)" for path in DOCUMENTED if path not in CLI)
    assert not unknown, f"README's command table names commands the CLI does not have: {unknown}"


def test_every_option_of_the_cli_is_in_the_readme():
    missing = []
    for path, options in CLI.items():
        written = DOCUMENTED.get(path, set()) | ({"--db"} if path == () else set())
        missing += [f"{' '.join(path)} {sorted(o)[-1]}" for o in options if not o & written]
    assert not missing, f"README's command table lacks these options: {sorted(missing)}"


def test_every_option_in_the_readme_exists():
    unknown = []
    for path, written in DOCUMENTED.items():
        known = set().union(*CLI.get(path, set()) or [set()])
        unknown += [f"{' '.join(path)} {o}" for o in sorted(written - known)]
    assert not unknown, f"README's command table names options the CLI does not have: {unknown}"


def test_the_readme_says_every_command_takes_db():
    assert frozenset({"--db"}) in CLI[()]
    assert "Every command takes `--db PATH`" in README
