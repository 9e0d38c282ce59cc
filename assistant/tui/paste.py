"""Pasted text arrives as text, whole and in order – even text with escape sequences in it.

A terminal sends a paste between ``ESC [200~`` and ``ESC [201~`` (bracketed paste). Textual's input
parser reads an ESC inside a paste as the start of a key sequence: the characters after it were
sent on as key presses at once while the text before it waited for the end of the paste, so
"före ␛[31mröd␛[0m efter" arrived as "␛[31mröd␛[0m efterföre " – and an escape sequence that
swallowed the closing ``ESC [201~`` left the parser in paste mode, so the next paste was lost.

``PasteGuard`` sits in front of the parser and replaces every control character inside a paste
(ESC included, except the closing ``ESC [201~``) with its visible symbol (␛, as ``terminal_safe``
shows it everywhere else; newline and tab stay), so the parser sees plain text up to the real end
of the paste. It is a streaming filter: a marker may be split across reads.

``install()`` puts it in front of the parser of the terminal driver and of the web driver
(``dialogstod serve``); a test checks that both still create their parser by that name.
"""

from __future__ import annotations

START = "\x1b[200~"
END = "\x1b[201~"
_KEEP = {"\n", "\t", "\r"}


def _visible(ch: str) -> str:
    code = ord(ch)
    if code == 0x7F:
        return "\u2421"
    return chr(0x2400 + code)


class PasteGuard:
    def __init__(self) -> None:
        self.in_paste = False
        self.matched = 0  # characters of the start marker seen so far (outside a paste)
        self.pending = ""  # inside a paste: the start of a possible end marker, held until the next read

    def feed(self, data: str) -> str:
        text = self.pending + data
        self.pending = ""
        out: list[str] = []
        i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            if not self.in_paste:
                # Everything outside a paste passes untouched and at once (a lone Esc is a key);
                # only the start marker is watched for.
                out.append(ch)
                if ch == START[self.matched]:
                    self.matched += 1
                else:
                    self.matched = 1 if ch == START[0] else 0
                if self.matched == len(START):
                    self.in_paste, self.matched = True, 0
                i += 1
                continue
            if ch == "\x1b":
                if text.startswith(END, i):
                    out.append(END)
                    self.in_paste = False
                    i += len(END)
                    continue
                if END.startswith(text[i:]):  # the end marker, split across reads
                    self.pending = text[i:]
                    break
                out.append(_visible(ch))
            elif (ord(ch) < 0x20 and ch not in _KEEP) or ord(ch) == 0x7F:
                out.append(_visible(ch))
            else:
                out.append(ch)
            i += 1
        return "".join(out)


def guarded_parser_class():
    """Textual's XTermParser with a ``PasteGuard`` in front of it."""
    from textual._xterm_parser import XTermParser

    class GuardedParser(XTermParser):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._paste_guard = PasteGuard()

        def feed(self, data: str):
            return super().feed(self._paste_guard.feed(data) if data else data)

    return GuardedParser


DRIVER_MODULES = ("textual.drivers.linux_driver", "textual.drivers.web_driver", "textual.drivers.linux_inline_driver")


def install(driver_class: type | None = None) -> None:
    """Give the driver in use (and any of Textual's terminal drivers already imported) a guarded
    parser. Imports nothing new: the driver's module is loaded by the time it is chosen."""
    import sys

    names = [n for n in DRIVER_MODULES if n in sys.modules]
    if driver_class is not None and driver_class.__module__ not in names:
        names.append(driver_class.__module__)
    parser = None
    for name in names:
        module = sys.modules.get(name)
        current = getattr(module, "XTermParser", None)
        if current is None or getattr(current, "_dialogstod_guarded", False):
            continue
        parser = parser or guarded_parser_class()
        parser._dialogstod_guarded = True
        module.XTermParser = parser
