"""The dependency directions, read from the source (every import, at the top of a module or inside
a function; those under ``if TYPE_CHECKING:`` are types only and do not count):

- ``storage`` imports nothing of ``assistant`` but the event record (``assistant.events``);
- the engine imports a fixed set of pure modules (of the standard library and of Dialogstöd): no
  storage, no door, no file, database, network or thread module;
- the doors never import each other: the app (``assistant.tui``) never imports the line mode,
  the CLI or its commands; the line mode (``assistant.chat``) never imports the app or the CLI;
- no import loops, the app's screens (which open each other) aside.

Also: the CLI's table of which module registers which command, the engine's lazily loaded names,
and that the one-shot commands import only what they need (docs/performance.md).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def _modules() -> dict[str, Path]:
    out = {}
    for package in ("assistant", "storage"):
        for path in (REPO / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _type_only(tree: ast.AST) -> set[int]:
    """The nodes under ``if TYPE_CHECKING:``."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                out.update(id(n) for n in ast.walk(child))
    return out


def imports_of(name: str) -> set[str]:
    """Every module ``name`` imports (full dotted names; ``from a import b`` counts as ``a.b`` when
    that is a module of ours, else as ``a``)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            subs = {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES}
            out |= subs if len(subs) == len(node.names) else subs | {base}
    return out


def ours(module: str) -> str | None:
    """The module of ours that an imported name belongs to (or None: the standard library or a package)."""
    while module and module not in MODULES:
        module = module.rpartition(".")[0]
    return module or None


GRAPH = {name: {m for m in map(ours, imports_of(name)) if m and m != name} for name in MODULES}


def _inside(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_storage_imports_nothing_of_assistant_but_the_event_record():
    for name in MODULES:
        if _inside(name, "storage"):
            wrong = {m for m in imports_of(name) if _inside(m, "assistant") and m != "assistant.events"}
            assert not wrong, f"{name} imports {sorted(wrong)}"


# The engine's allowed company: the definitions it walks and the pure helpers it uses.
ENGINE_MAY_IMPORT = {
    "assistant.conditions",
    "assistant.events",
    "assistant.flagstates",
    "assistant.flows",
    "assistant.glossary",
    "assistant.labels",
    "assistant.lexicon",
    "assistant.privacy",
    "assistant.render",
    "assistant.textsafe",
    "assistant.topics",
}


# The standard library the engine may use: computation only (no os, io, sqlite3, socket, threads …).
ENGINE_STDLIB = {
    "__future__", "bisect", "collections", "copy", "dataclasses", "datetime", "enum", "functools", "heapq",
    "importlib", "itertools", "math", "operator", "re", "statistics", "string", "typing", "unicodedata",
}


def test_the_engine_imports_only_pure_modules():
    for name in MODULES:
        if not _inside(name, "assistant.engine"):
            continue
        for module in imports_of(name):
            if _inside(module, "assistant.engine"):
                continue
            if _inside(module, "assistant"):
                assert module in ENGINE_MAY_IMPORT, f"{name} imports {module}"
            else:
                assert module.split(".")[0] in ENGINE_STDLIB, f"{name} imports {module}"


def test_the_doors_never_import_each_other():
    for name in MODULES:
        if _inside(name, "assistant.tui"):
            wrong = {m for m in GRAPH[name] if _inside(m, "assistant.chat", "assistant.cli", "assistant.commands")}
            assert not wrong, f"{name} imports {sorted(wrong)}"
        if name == "assistant.chat":
            wrong = {m for m in GRAPH[name] if _inside(m, "assistant.tui", "assistant.cli", "assistant.commands")}
            assert not wrong, f"{name} imports {sorted(wrong)}"


def _loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_loops_but_between_the_app_screens():
    loops = [c for c in _loops(GRAPH) if not all(_inside(m, "assistant.tui") for m in c)]
    assert loops == []
    assert "assistant.engine.state" not in GRAPH["assistant.engine.evaluation"]


def test_the_loop_finder_finds_a_loop():
    graph = {**GRAPH, "assistant.engine.evaluation": GRAPH["assistant.engine.evaluation"] | {"assistant.engine.state"}}
    assert any("assistant.engine.state" in c and "assistant.engine.evaluation" in c for c in _loops(graph))


def test_the_cli_table_names_the_module_that_registers_each_command():
    from assistant.cli import COMMANDS, build_parser

    def registered(parser) -> set[str]:
        action = next(a for a in parser._actions if a.dest == "command")
        return set(action.choices)

    assert registered(build_parser()) == set(COMMANDS)
    for command, module in COMMANDS.items():
        assert registered(build_parser(command)) == {c for c, m in COMMANDS.items() if m == module}, command


def test_the_engine_names_are_the_objects_even_after_every_submodule_is_imported():
    """``assistant.engine`` loads its submodules on first use; a submodule imported directly must
    not shadow a name of the same spelling (``engine.step`` the function, not a module)."""
    code = (
        "import importlib, pkgutil, types\n"
        "import assistant.engine as E\n"
        "for m in pkgutil.iter_modules(E.__path__):\n"
        "    importlib.import_module(f'assistant.engine.{m.name}')\n"
        "for name in E.__all__:\n"
        "    value = getattr(E, name)\n"
        "    assert not isinstance(value, types.ModuleType), name\n"
        "    assert value is getattr(importlib.import_module(E._WHERE[name]), name), name\n"
        "print(len(E.__all__))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 50


# What a one-shot command must not import (docs/performance.md: each within 1.2× of
# `sqlite-utils tables`): sqlite-utils brings numpy; the pictures, the word list, the web server
# and the app are for other commands.
NEVER = {"sqlite_utils", "numpy", "matplotlib", "plotext", "textual_plotext", "simplemma", "aiohttp", "textual", "docx", "openpyxl", "scipy"}
NO_FLOWS = {"pydantic", "jinja2", "assistant.flows", "assistant.engine.state"}


@pytest.mark.parametrize(
    ("argv", "absent"),
    [
        (["list"], NEVER | NO_FLOWS),
        (["list", "--json"], NEVER | NO_FLOWS),
        (["search", "avvik*"], NEVER | NO_FLOWS),
        (["actions"], NEVER | NO_FLOWS),
        (["export", "DID", "-f", "json", "-o", "OUT/d.json"], NEVER | NO_FLOWS),
        (["show", "DID"], NEVER | {"assistant.engine.dispatch", "assistant.engine.suggest", "assistant.topics"}),
        (["export", "DID", "-f", "md", "-o", "OUT/d.md"], NEVER | {"assistant.engine.dispatch", "assistant.topics"}),
        (["export", "DID", "-f", "html", "-o", "OUT/d.html"], NEVER | {"assistant.engine.dispatch", "assistant.topics"}),
        (["data", "flags", "--clinic", "Fysio Norr (påhittad)"], NEVER | {"jinja2", "assistant.flows", "assistant.conditions"}),
    ],
)
def test_a_one_shot_command_imports_only_what_it_needs(tmp_path: Path, argv: list[str], absent: set[str]):
    from assistant import engine as E
    from assistant.data import DEMO_FILE
    from assistant.data.importer import import_file
    from assistant.session import Dialogue
    from storage import Store

    db = tmp_path / "x.db"
    with Store.open(db) as store:
        d = Dialogue.start(store, "fysioterapi-2023", E.StartOptions(clinic="Fysio Norr (påhittad)"))
        d.do(E.Answer("Två fysioterapeuter och en arbetsterapeut."))
        d.do(E.AddAction("Ring tillbaka", owner="Anna"))
        import_file(DEMO_FILE, source="demo", store=store)
        did = d.id
    args = [a.replace("DID", did[:8]).replace("OUT", str(tmp_path)) for a in argv]
    code = (
        "import sys, io, contextlib\n"
        "from assistant.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main({['--db', str(db), *args]!r}) == 0\n"
        "print('\\n'.join(sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert not {m for m in absent if m in loaded}, sorted(m for m in absent if m in loaded)
