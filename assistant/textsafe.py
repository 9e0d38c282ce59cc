"""Showing untrusted text in a terminal: control characters become visible symbols, never act.

ESC (the start of ANSI/OSC sequences) shows as ␛, other C0 controls as their Control Picture
(␀ … ␟), DEL as ␡, C1 controls as ``\\x9b``-style text; newline and tab stay.
Bidirectional overrides (U+202A–U+202E, U+2066–U+2069) are shown as ``<U+202E>`` so they cannot
reorder what a reader sees.

Untrusted means anything a person typed *and* anything read from a file or a bundle: clinic,
indicator and period names from indicator files, ids, clinic names and texts from bundles, flow
titles and section names. ``json_text`` is ``json.dumps`` for output a person may ``cat``: the
same characters are written as ``\\uXXXX`` escapes (still the same JSON, losslessly).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

MAX_TEXT = 2_000_000  # characters in one stored text (an answer, a note …); a 1 MB paste fits
MAX_SHORT = 2_000  # names, owners, dates


def normalise_typed(text: str) -> str:
    """Line breaks as LF and no NUL: what every stored text a person typed looks like."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    ch = m.group(0)
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"<U+{code:04X}>"


def terminal_safe(text: str) -> str:
    if text.isprintable():  # no control, format or separator character: nothing to replace (fast)
        return text
    return _CONTROL.sub(_visible, text)


def control_character(text: str) -> str | None:
    """The first character ``terminal_safe`` would replace (newline and tab are fine), or None."""
    m = _CONTROL.search(text)
    return m.group(0) if m else None


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_text(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kwargs)`` with DEL, C1 controls, line/paragraph
    separators and bidirectional overrides escaped (json.dumps already escapes C0 controls)."""
    return _json_safe(json.dumps(value, ensure_ascii=False, **kwargs))


def _json_safe(text: str) -> str:
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def json_array(items: Iterable[Any], **kwargs: Any) -> Iterator[str]:
    """``json_text(list(items), indent=2, **kwargs)`` in pieces, one item at a time: a command prints
    a list of 100 000 rows as they are read, never holding them all (the same text, to the byte)."""
    first = True
    flat_ok = set(kwargs) <= {"default"}  # ``default`` is only ever called for what is not a scalar
    for item in items:
        piece = _flat_object(item) if flat_ok else None
        if piece is None:
            piece = json_text(item, indent=2, **kwargs).replace("\n", "\n  ")
        yield ("[\n  " if first else ",\n  ") + piece
        first = False
    yield "[]\n" if first else "\n]\n"


_encode_str = json.encoder.encode_basestring  # json.dumps(str, ensure_ascii=False), in C


def _flat_object(item: Any) -> str | None:
    """A dict of scalars as ``json_text(item, indent=2)`` writes it one level into an array, or None
    for anything else. json.dumps with an indent runs its pure-Python encoder; a row of a list
    (``list --json``, ``actions --json``) is flat, and this writes it several times faster."""
    if type(item) is not dict or not item:
        return None
    parts = []
    for key, value in item.items():
        if type(key) is not str:
            return None
        if type(value) is str:
            text = _encode_str(value)
        elif value is None:
            text = "null"
        elif value is True or value is False:
            text = "true" if value else "false"
        elif type(value) is int or type(value) is float:
            text = json.dumps(value)
        else:
            return None
        parts.append(f"{_encode_str(key)}: {text}")
    return _json_safe("{\n    " + ",\n    ".join(parts) + "\n  }")


def one_line(text: str, width: int = 80) -> str:
    if len(text) <= width and text.isprintable() and "  " not in text and text.strip(" ") == text:
        return text  # already one safe line: what the rest would make of it (fast)
    flat = " ".join(terminal_safe(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# ---------------------------------------------------------------- bytes that were not UTF-8

# cp1252 leaves five bytes undefined; Latin-1 reads them as the C1 controls they are there.
_CP1252 = {b: bytes([b]).decode("cp1252", "strict") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else chr(b)
           for b in range(0x80, 0x100)}


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(_CP1252[b] for b in bad), exc.end


codecs.register_error("dialogstod-cp1252", _cp1252_fallback)


def repair_undecodable(text: str) -> str:
    """Text that arrived as bytes that were not UTF-8, read as Windows-1252 instead.

    Python keeps such bytes (in arguments, and on stdin with ``errors="surrogateescape"``) as lone
    surrogates U+DC80–U+DCFF, which cannot be stored or printed. Here the original bytes are
    recovered and decoded again: valid UTF-8 stays as it was, every other byte is read as cp1252 –
    the realistic case for Swedish text from Windows or an old terminal (``V\\xe5rdcentralen`` is
    "Vårdcentralen"). Any other lone surrogate becomes U+FFFD. Text without surrogates is returned
    unchanged (and cheaply)."""
    if not _SURROGATE.search(text):
        return text
    raw = _SURROGATE_OTHER.sub("\ufffd", text).encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "dialogstod-cp1252")


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_OTHER = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # not from surrogateescape
