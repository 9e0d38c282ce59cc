"""Sandboxed Jinja2: the texts the assistant says (flow texts, rule reasons) and the exports.

Template *source* only ever comes from files the project or a region ships (flows, ``prompts/``).
What people write is passed in as data and never parsed as a template. Every environment is a
``SandboxedEnvironment`` with ``StrictUndefined``; HTML templates autoescape.
"""

from __future__ import annotations

import re
import threading
import time
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined, nodes, pass_context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from jinja2.utils import Namespace, _PassArg
from jinja2.visitor import NodeTransformer

from assistant import locations
from assistant.formatting import md, md_quote, procent, tal


class TemplateProblem(Exception):
    pass


SVAR_NEEDS_AN_ID = 'svar() behöver ett fråge-id inom citattecken, t.ex. svar("p4.konkret.omrade")'


FILTERS = {"tal": tal, "procent": procent, "md": md, "md_quote": md_quote}


# ---------------------------------------------------------------- flow texts
#
# Flow texts come from files a region writes or a bundle carries, so a flow template is untrusted
# code: it runs in a sandbox with limits, and a template that breaks one is a TemplateProblem (the
# caller shows the text unrendered) — never a crash, a hang or gigabytes of memory.
#
# - Only a small language: no macros, call or filter blocks, block assignments, recursive loops,
#   includes or imports (``flows check`` reports them with their location).
# - Values stay small: ``**`` only on small operands; ``*``, ``+``, ``%`` and ``~`` refuse a result
#   over MAX_OUTPUT characters; ``range`` at most MAX_RANGE items; a number passed to a function at
#   most MAX_INT_ARG; only the filters in TEXT_FILTERS and a few harmless string and dict methods.
# - Work is counted: every loop step, call, filter and operator is a step; a render may take at most
#   MAX_STEPS steps and MAX_SECONDS seconds, and its output at most MAX_OUTPUT characters.

MAX_OUTPUT = 4_000_000  # characters: twice the longest answer (textsafe.MAX_TEXT)
MAX_RANGE = 10_000
MAX_INT_ARG = 10_000
MAX_POWER_BITS = 4_096
MAX_STEPS = 100_000
MAX_SECONDS = 0.25


class TemplateLimit(TemplateProblem):
    """A flow template went over one of the limits above."""


class _Budget(threading.local):
    deadline: float = 0.0
    steps: int = 0
    active: bool = False


_BUDGET = _Budget()


def _tick() -> None:
    budget = _BUDGET
    if not budget.active:
        raise TemplateLimit("mallen körs utanför sin budget")
    budget.steps += 1
    if budget.steps > MAX_STEPS:
        raise TemplateLimit(f"mallen tar för många steg (högst {MAX_STEPS:,})".replace(",", "\u00a0"))
    if budget.steps % 64 == 0 and time.monotonic() > budget.deadline:
        raise TemplateLimit(f"mallen tar för lång tid (högst {MAX_SECONDS} s)")


def _size(value: Any, depth: int = 0) -> int:
    """An upper estimate of how many characters ``str(value)`` would take (stops counting past
    MAX_OUTPUT), without building the string."""
    if value is None or isinstance(value, bool | float):
        return 24
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if depth > 20:
        return MAX_OUTPUT + 1
    if isinstance(value, Namespace):
        value = object.__getattribute__(value, "_Namespace__attrs")
    if isinstance(value, dict):
        items: Any = (x for kv in value.items() for x in kv)
    elif isinstance(value, list | tuple | set | frozenset | range):
        items = value
    else:
        return 256  # an object from the program (a flag, a match): its repr is small
    total = 2
    for item in items:
        total += _size(item, depth + 1) + 4
        if total > MAX_OUTPUT:
            break
    return total


def _fits(size: int, what: str) -> None:
    if size > MAX_OUTPUT:
        raise TemplateLimit(f"{what} blir för långt (högst {MAX_OUTPUT:,} tecken)".replace(",", "\u00a0"))


_SCALARS = (str, int, float, bool, type(None))
_PERCENT_SPEC = re.compile(r"%[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_NUMBER = re.compile(r"\d+")


def _check_int_args(args: Any) -> None:
    for a in args:
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_INT_ARG:
            raise TemplateLimit(f"talet {a if abs(a) < 10**12 else 'i mallen'} är för stort (högst {MAX_INT_ARG:,})".replace(",", "\u00a0"))


def _binop(operator: str, left: Any, right: Any) -> Any:
    _tick()
    numbers = (int, float)
    if operator == "**":
        if isinstance(left, numbers) and isinstance(right, numbers):
            if abs(right) > 1_000 or (
                isinstance(left, int) and isinstance(right, int) and max(1, abs(left).bit_length()) * right > MAX_POWER_BITS
            ):
                raise TemplateLimit("potensen är för stor (för stora tal i **)")
        return left**right
    if operator == "*":
        if isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool):
            if left.bit_length() + right.bit_length() > 2 * MAX_POWER_BITS:
                raise TemplateLimit("produkten är för stor")
        elif isinstance(right, int) and not isinstance(left, numbers):
            _fits(_size(left) * max(0, right), "resultatet av *")
        elif isinstance(left, int) and not isinstance(right, numbers):
            _fits(_size(right) * max(0, left), "resultatet av *")
        return left * right
    if operator == "+":
        if not isinstance(left, numbers) or not isinstance(right, numbers):
            _fits(_size(left) + _size(right), "resultatet av +")
        return left + right
    if operator == "%":
        if isinstance(left, str):
            for m in _PERCENT_SPEC.finditer(left):
                for part in m.groups():
                    if part == "*" or (part and int(part) > MAX_INT_ARG):
                        raise TemplateLimit("formatbredden är för stor")
            _fits(len(left) + _size(right), "resultatet av %")
        return left % right
    raise TemplateLimit(f"operatorn {operator} är inte tillåten")  # pragma: no cover - only the above are intercepted


def _concat(parts: list[Any]) -> str:
    _tick()
    for p in parts:
        if not isinstance(p, _SCALARS):
            raise TemplateLimit("~ fogar bara ihop text och tal")
    _fits(sum(_size(p) for p in parts), "resultatet av ~")
    return "".join(str(p) for p in parts)


def _loop(iterable: Any) -> Any:
    _tick()
    for item in iterable:
        _tick()
        yield item


def _range(*args: Any) -> range:
    _tick()
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise TemplateLimit(f"range är för stort ({len(rng):,} tal, högst {MAX_RANGE:,})".replace(",", "\u00a0"))
    return rng


def _finalize(value: Any) -> Any:
    if isinstance(value, Undefined):
        return value
    if not isinstance(value, _SCALARS):
        raise TemplateLimit("bara text och tal kan skrivas ut i en flödestext")
    _fits(_size(value), "ett uttryck")
    return value


def _limited_filter(func: Any) -> Any:
    """A filter that counts as a step and refuses values and numbers over the limits."""

    @pass_context
    def limited(context: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        _check_int_args((*args, *kwargs.values()))
        _fits(_size(value) + sum(_size(a) for a in (*args, *kwargs.values())), "värdet till ett filter")
        arg = _PassArg.from_obj(func)
        if arg is _PassArg.context:
            result = func(context, value, *args, **kwargs)
        elif arg is _PassArg.eval_context:
            result = func(context.eval_ctx, value, *args, **kwargs)
        elif arg is _PassArg.environment:
            result = func(context.environment, value, *args, **kwargs)
        else:
            result = func(value, *args, **kwargs)
        _fits(_size(result), "resultatet av ett filter")
        return result

    return limited


# Filters a flow text may use: none of them makes a value much longer than what goes in.
TEXT_FILTERS = (
    "tal", "procent", "lower", "upper", "capitalize", "title", "trim", "default", "d", "round",
    "int", "float", "abs", "string", "length", "count", "first", "last", "join", "e", "escape",
    "striptags", "truncate", "wordcount", "min", "max",
)
# Methods of str and dict a flow text may call (the sandbox already refuses anything private).
SAFE_METHODS = {
    str: frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "title",
                    "capitalize", "casefold", "isdigit", "isalpha", "isnumeric", "isspace", "split",
                    "splitlines", "count", "find"}),
    dict: frozenset({"get", "keys", "values", "items"}),
}
_FORBIDDEN_NODES = {
    nodes.Macro: "makron",
    nodes.CallBlock: "call-block",
    nodes.FilterBlock: "filter-block",
    nodes.AssignBlock: "set-block",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Extends: "extends",
    nodes.Block: "block",
}


class _Limit(NodeTransformer):
    """Rewrites a parsed flow template so that its loops and ``~`` count against the budget."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            raise TemplateSyntaxError("rekursiva loopar är inte tillåtna i flödestexter", node.lineno)
        self.generic_visit(node)
        node.iter = nodes.Call(nodes.Name("_loop", "load"), [node.iter], [], None, None).set_lineno(node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(nodes.Name("_concat", "load"), [nodes.List(node.nodes)], [], None, None).set_lineno(
            node.lineno
        )


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox for flow texts (see the limits above)."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False, finalize=_finalize)
        builtin = dict(self.filters)
        builtin.update(FILTERS)
        self.filters = {name: _limited_filter(builtin[name]) for name in TEXT_FILTERS}
        self.globals = {"range": _range, "dict": dict, "namespace": Namespace, "_loop": _loop, "_concat": _concat}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        ast = super()._parse(source, name, filename)
        for kind, what in _FORBIDDEN_NODES.items():
            for node in ast.find_all(kind):
                raise TemplateSyntaxError(f"{what} är inte tillåtet i flödestexter", node.lineno, name, filename)
        return _Limit().visit(ast)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        for kind, allowed in SAFE_METHODS.items():
            if isinstance(obj, kind) and callable(value):
                return attr in allowed
        if isinstance(obj, list | tuple | set | frozenset | int | float) and callable(value):
            return False
        return True

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format and format_map are not in SAFE_METHODS: refused like any method

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return _binop(operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _tick()
        _check_int_args((*args, *kwargs.values()))
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str | list | tuple | dict):
            _fits(_size(result), "resultatet av ett anrop")
        return result


_TEXT_ENV = LimitedEnvironment()


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=4096)
def _compile(text: str):
    try:
        return _TEXT_ENV.from_string(text)
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from None
    except (RecursionError, MemoryError, ValueError, OverflowError):
        raise TemplateProblem("mallen kan inte tolkas (för djupt nästlad eller för stor)") from None


_SVAR_CALL = re.compile(r"\bsvar\s*\(")
_SVAR_REF = re.compile(r"""\bsvar\s*\(\s*(["'])([^"'\\]*)\1""")


def template_question_refs(text: str, *, strict: bool = False) -> set[str]:
    """The question ids a flow text refers to through ``svar("…")``. Raises TemplateProblem.

    The quick form (used whenever a flow loads) reads the references with a regular expression;
    ``strict`` (``dialogstod flows check``) also parses the whole template, catching syntax errors
    and constructs flow texts may not use.
    """
    if not is_template(text):
        return set()
    if not strict:
        calls = len(_SVAR_CALL.findall(text))
        refs = [m.group(2) for m in _SVAR_REF.finditer(text)]
        if len(refs) != calls:
            raise TemplateProblem(SVAR_NEEDS_AN_ID)
        return set(refs)
    try:
        ast = _TEXT_ENV.parse(text)
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from None
    except (RecursionError, MemoryError):
        raise TemplateProblem("mallen är för djupt nästlad") from None
    refs: set[str] = set()
    for call in ast.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "svar":
            if not call.args or not isinstance(call.args[0], nodes.Const) or not isinstance(call.args[0].value, str):
                raise TemplateProblem(SVAR_NEEDS_AN_ID)
            refs.add(call.args[0].value)
    return refs


def render_text(text: str, answers: dict[str, str] | None = None, **context: Any) -> str:
    """Render a flow text within the limits. ``svar("id", "fallback")`` gives an earlier answer as
    plain data. Any failure — a syntax error, an undefined name, a limit — is a TemplateProblem."""
    if not is_template(text):
        return text
    answers = answers or {}

    def svar(question_id: str, fallback: str = "") -> str:
        return answers.get(question_id) or fallback

    template = _compile(text)
    budget = _BUDGET
    budget.active, budget.steps, budget.deadline = True, 0, time.monotonic() + MAX_SECONDS
    try:
        out: list[str] = []
        total = 0
        for chunk in template.generate(svar=svar, **context):
            _tick()
            total += len(chunk)
            _fits(total, "texten")
            out.append(chunk)
        return "".join(out)
    except TemplateProblem:
        raise
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from None
    except (ArithmeticError, ValueError, TypeError, LookupError, AttributeError, RecursionError, MemoryError) as exc:
        raise TemplateProblem(f"mallen gick inte att visa ({type(exc).__name__}: {str(exc)[:200]})") from None
    finally:
        budget.active = False


# ---------------------------------------------------------------- prompts/ templates (exports, messages)


@lru_cache(maxsize=1)
def prompt_env() -> SandboxedEnvironment:
    from jinja2 import FileSystemLoader, select_autoescape

    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(locations.templates_dir())),
        bytecode_cache=_template_cache(),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "xml"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def _template_cache() -> Any:
    """Compiled templates kept between processes: compiling one costs ~25 ms, a tenth of
    ``dialogstod show``. Jinja's own cache in the temporary directory (a directory of this user's,
    mode 0700, checked before use); an entry is used only for the exact source it was compiled
    from. Best effort: a cache that cannot be made, read or written is no cache."""
    from jinja2 import FileSystemBytecodeCache

    class Cache(FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            try:
                super().load_bytecode(bucket)
            except (OSError, ValueError, EOFError, TypeError):  # unreadable or cut short
                bucket.reset()

        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    try:
        return Cache()
    except (OSError, RuntimeError):  # no safe temporary directory of our own
        return None


def render_prompt(name: str, **context: Any) -> str:
    return prompt_env().get_template(name).render(**context)
