"""Sandboxed Jinja2: the texts the assistant says (flow texts, rule reasons) and the exports.

Template *source* only ever comes from files the project or a region ships (flows, ``prompts/``).
What people write is passed in as data and never parsed as a template. Every environment is a
``SandboxedEnvironment`` with ``StrictUndefined``; HTML templates autoescape.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from assistant import locations


class TemplateProblem(Exception):
    pass


SVAR_NEEDS_AN_ID = 'svar() behöver ett fråge-id inom citattecken, t.ex. svar("p4.konkret.omrade")'


# ---------------------------------------------------------------- Swedish number formatting


def tal(value: Any, decimals: int = 0) -> str:
    """1204 -> '1 204', 0.5 with decimals=1 -> '0,5' (Swedish: space thousands, decimal comma)."""
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number) or math.isinf(number):
        return "–"
    text = f"{number:,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def procent(value: Any, decimals: int = 0) -> str:
    """0.785 -> '79 %'; procent(0.785, 1) -> '78,5 %'."""
    if value is None:
        return "–"
    try:
        number = float(value) * 100
    except (TypeError, ValueError):
        return str(value)
    return f"{tal(number, decimals)}\u00a0%"


# CommonMark lets any ASCII punctuation be backslash-escaped: "\<script>" is text, never HTML.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]#|!~<>&"})


_MD_LIST = re.compile(r"^(\s*)([-+=]|\d+[.)])")  # bullets, setext underlines, "1." and "1)"


def md(value: Any) -> str:
    """Escape text for Markdown so nothing a person wrote becomes markup, a link or HTML."""
    if value is None:
        return ""
    text = str(value).translate(_MD_SPECIAL)
    # a line that starts like a list or a setext heading stays text
    def guard(m: re.Match[str]) -> str:
        marker = m.group(2)
        return m.group(1) + (marker[:-1] + "\\" + marker[-1] if marker[-1] in ".)" else "\\" + marker)

    return "\n".join(_MD_LIST.sub(guard, line) for line in text.split("\n"))


def md_quote(value: Any) -> str:
    """A Markdown block quote of escaped text, one '> ' per line."""
    return "\n".join("> " + line if line else ">" for line in md(value).split("\n"))


FILTERS = {"tal": tal, "procent": procent, "md": md, "md_quote": md_quote}


# ---------------------------------------------------------------- flow texts


def _text_env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters.update(FILTERS)
    return env


_TEXT_ENV = _text_env()


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=4096)
def _compile(text: str):
    try:
        return _TEXT_ENV.from_string(text)
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from None


_SVAR_CALL = re.compile(r"\bsvar\s*\(")
_SVAR_REF = re.compile(r"""\bsvar\s*\(\s*(["'])([^"'\\]*)\1""")


def template_question_refs(text: str, *, strict: bool = False) -> set[str]:
    """The question ids a flow text refers to through ``svar("…")``. Raises TemplateProblem.

    The quick form (used whenever a flow loads) reads the references with a regular expression;
    ``strict`` (``dialogstod flows check``) also parses the whole template, catching syntax errors.
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
    refs: set[str] = set()
    for call in ast.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "svar":
            if not call.args or not isinstance(call.args[0], nodes.Const) or not isinstance(call.args[0].value, str):
                raise TemplateProblem(SVAR_NEEDS_AN_ID)
            refs.add(call.args[0].value)
    return refs


def render_text(text: str, answers: dict[str, str] | None = None, **context: Any) -> str:
    """Render a flow text. ``svar("id", "fallback")`` gives an earlier answer as plain data."""
    if not is_template(text):
        return text
    answers = answers or {}

    def svar(question_id: str, fallback: str = "") -> str:
        return answers.get(question_id) or fallback

    try:
        return _compile(text).render(svar=svar, **context)
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from None


# ---------------------------------------------------------------- prompts/ templates (exports, messages)


@lru_cache(maxsize=1)
def prompt_env() -> SandboxedEnvironment:
    from jinja2 import FileSystemLoader, select_autoescape

    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(locations.templates_dir())),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "xml"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def render_prompt(name: str, **context: Any) -> str:
    return prompt_env().get_template(name).render(**context)
