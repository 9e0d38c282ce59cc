"""Untrusted text stays text: markup, escapes, HTML and templates in every export and view."""

from __future__ import annotations

import io
import json
import zipfile
from html.parser import HTMLParser

import pytest

from assistant import engine as E
from assistant.database import open_store
from assistant.export import export_bytes, transcript_text
from assistant.session import Dialogue
from tests.test_chat import user_flows  # noqa: F401 - fixture

NASTY = (
    "[b]fet[/b] [@click=app.quit]klick[/] [link=https://x.invalid]länk[/link] "
    "\x1b[31mröd\x1b]8;;https://x.invalid\x07OSC\x1b]8;;\x07 "
    "<script>alert(1)</script> <img src=x onerror=alert(1)> "
    "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %} [x](javascript:alert(1)) # rubrik "
    "&amp;lt; \u202eevil \x9b31mC1"
)
# How NASTY must read in every export and view, written out by hand: ESC as ␛, BEL as ␇, the
# right-to-left override as <U+202E> and the C1 CSI as \x9b — everything else exactly as typed.
VISIBLE = (
    "[b]fet[/b] [@click=app.quit]klick[/] [link=https://x.invalid]länk[/link] "
    "␛[31mröd␛]8;;https://x.invalid␇OSC␛]8;;␇ "
    "<script>alert(1)</script> <img src=x onerror=alert(1)> "
    "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %} [x](javascript:alert(1)) # rubrik "
    "&amp;lt; <U+202E>evil \\x9b31mC1"
)
# Bytes that act in a terminal or a viewer and must never reach a document as themselves.
ACTIVE = ["\x1b", "\x07", "\x00", "\x08", "\x7f", "\x9b", "\u202e"]


def norm(text: str) -> str:
    return " ".join(text.split())


class Parsed(HTMLParser):
    """An HTML document as a browser would build it: its elements, attributes and text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.data: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.data.append(data)

    @property
    def text(self) -> str:
        return norm(" ".join(self.data))


def assert_inert_html(doc: Parsed) -> None:
    assert not {"script", "img", "a", "iframe", "object", "link"} & set(doc.tags), doc.tags
    assert not [name for name, _ in doc.attrs if name.startswith("on")]
    assert not [v for _, v in doc.attrs if v and "javascript:" in v]


def markdown_as_html(text: str) -> Parsed:
    """The Markdown export as a CommonMark viewer shows it (markdown-it, HTML allowed as a viewer would)."""
    from markdown_it import MarkdownIt

    return Parsed(MarkdownIt("commonmark").render(text))


def docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return norm(" ".join([p.text for p in doc.paragraphs] + cells))


@pytest.fixture
def nasty_dialogue(user_flows):  # noqa: F811
    store = open_store()
    d = Dialogue.start(
        store,
        "mini",
        E.StartOptions(clinic="Klinik " + NASTY, participants=(E.Participant("Namn " + NASTY, "roll " + NASTY),)),
    )
    d.do(E.Answer(NASTY))
    d.do(E.AddNote("Anteckning " + NASTY))
    d.do(E.AddAction("Åtgärd " + NASTY, owner="Ägare " + NASTY))
    d.do(E.Park())
    yield store, d
    store.close()


# Every place NASTY was written, as the reader must see it.
PLACES = ["Klinik ", "Namn ", "roll ", "", "Anteckning ", "Åtgärd ", "Ägare "]


def assert_shown_and_inert(raw: str, doc: Parsed) -> None:
    """No active byte in the file, no live element, and NASTY readable as typed wherever it was
    written (which also shows that no template ran: ``{{ 7*7 }}`` is still there)."""
    for ch in ACTIVE:
        assert ch not in raw, repr(ch)
    assert_inert_html(doc)
    for place in PLACES:
        assert norm(place + VISIBLE) in doc.text, place


def test_html_export_escapes_everything(nasty_dialogue):
    store, d = nasty_dialogue
    html = export_bytes(store, d.state, d.row, "html").decode()
    assert_shown_and_inert(html, Parsed(html))
    assert "Content-Security-Policy" in html


def test_markdown_export_makes_no_markup(nasty_dialogue):
    store, d = nasty_dialogue
    md = export_bytes(store, d.state, d.row, "md").decode()
    assert_shown_and_inert(md, markdown_as_html(md))


def test_docx_export_holds_the_text_literally(nasty_dialogue):
    store, d = nasty_dialogue
    data = export_bytes(store, d.state, d.row, "docx")
    assert zipfile.is_zipfile(io.BytesIO(data))
    text = docx_text(data)
    for place in PLACES:
        assert norm(place + VISIBLE) in text, place
    for ch in ACTIVE:
        assert ch not in text, repr(ch)


def test_json_export_is_lossless(nasty_dialogue):
    store, d = nasty_dialogue
    data = json.loads(export_bytes(store, d.state, d.row, "json"))
    by_kind = {e["kind"]: e for e in data["events"]}
    assert [e["text"] for e in data["events"] if e["kind"] == "answered"] == [NASTY]
    assert by_kind["noted"]["text"] == "Anteckning " + NASTY
    assert by_kind["action_added"]["text"] == "Åtgärd " + NASTY
    assert data["dialogue"]["clinic"] == "Klinik " + NASTY


def test_terminal_transcript_has_no_escape_bytes(nasty_dialogue):
    _, d = nasty_dialogue
    text = transcript_text(d.state, d.row)
    for ch in ACTIVE:
        assert ch not in text, repr(ch)
    for place in PLACES:
        assert norm(place + VISIBLE) in norm(text), place


# (typed, stored, shown): what is stored is what was typed with line endings made \n, NUL made
# U+FFFD, and blanks at line ends and blank lines at the ends dropped; what is shown has every
# control character as a visible symbol (shown line by line).
ODD_ANSWERS = [
    ("x" * 1_048_576, "x" * 1_048_576, "x" * 1_048_576),  # a 1 MB paste
    ("مرحبا بالعالم – ‏עברית‏ \u202eevil", "مرحبا بالعالم – ‏עברית‏ \u202eevil", "مرحبا بالعالم – ‏עברית‏ <U+202E>evil"),
    ("👩‍⚕️🏥 bra 💪🏽", "👩‍⚕️🏥 bra 💪🏽", "👩‍⚕️🏥 bra 💪🏽"),
    ("tab\there\x00nul\x08bs\x7fdel", "tab\there\ufffdnul\x08bs\x7fdel", "tab here\ufffdnul␈bs␡del"),
    ("  mellanslag runt om  ", "  mellanslag runt om", "mellanslag runt om"),
    ("\r\nrad ett  \r\nrad två\rrad tre\r\n\r\n", "rad ett\nrad två\nrad tre", "rad ett\nrad två\nrad tre"),
    ("\x9b31mC1 \x1b]0;titel\x07", "\x9b31mC1 \x1b]0;titel\x07", "\\x9b31mC1 ␛]0;titel␇"),
]


@pytest.mark.parametrize(("typed", "stored", "shown"), ODD_ANSWERS, ids=[repr(a[0][:20]) for a in ODD_ANSWERS])
def test_odd_answers_are_stored_and_exported(user_flows, typed, stored, shown):  # noqa: F811
    with open_store() as store:
        d = Dialogue.start(store, "mini", E.StartOptions(clinic="Fysio"))
        d.do(E.Answer(typed))
        assert [e.text for e in store.load_events(d.id) if e.kind == "answered"] == [stored]
        exports = {fmt: export_bytes(store, d.state, d.row, fmt) for fmt in ("md", "html", "docx", "json")}
        assert [e["text"] for e in json.loads(exports["json"])["events"] if e["kind"] == "answered"] == [stored]
        html, md = exports["html"].decode(), exports["md"].decode()
        seen = {
            "html": Parsed(html).text,
            "md": markdown_as_html(md).text,
            "docx": docx_text(exports["docx"]),
            "terminal": norm(transcript_text(d.state, d.row)),
        }
        for where, text in seen.items():
            for line in shown.split("\n"):  # each line shows (the terminal quotes them one by one)
                assert norm(line) in text, where
            for ch in ACTIVE:
                assert ch not in text, (where, repr(ch))
        for ch in ACTIVE:
            assert ch not in html and ch not in md, repr(ch)


@pytest.mark.parametrize("answer", ["", "   ", "\n\n", "\t"])
def test_empty_answers_are_refused_with_a_message(user_flows, answer):  # noqa: F811
    with open_store() as store:
        d = Dialogue.start(store, "mini", E.StartOptions(clinic="Fysio"))
        with pytest.raises(E.EngineError, match="tomt"):
            d.do(E.Answer(answer))
        assert [e.kind for e in store.load_events(d.id)] == ["started", "prompted"]


# Text that starts like Markdown structure: in the export each must stay text.
STRUCTURE = [
    "- punkt",
    "+ plus",
    "* stjärna",
    "1. ett",
    "1) ett",
    "2) två",
    "10) tio",
    "1986. Ett bra år",
    "# rubrik",
    "## underrubrik",
    "rad före ett streck\n=====",
    "rad före en linje\n---",
    "***",
    "___",
    "> citat",
    "  - indragen punkt",
    "rad\n1. punkt som avbryter",
    "rad\n- punkt som avbryter",
    "<!-- kommentar -->",
    "[ref]: https://x.invalid",
    "    indragen som kod",
    "\tmed tabb\nrad",
]


def _inside(tokens, open_type: str, close_type: str, after: int = 0) -> list:
    start = next(i for i, t in enumerate(tokens) if i >= after and t.type == open_type)
    depth = 0
    for i in range(start, len(tokens)):
        depth += tokens[i].type == open_type
        depth -= tokens[i].type == close_type
        if depth == 0:
            return tokens[start + 1 : i]
    raise AssertionError(f"no {close_type}")


@pytest.mark.parametrize("text", STRUCTURE)
def test_markdown_export_keeps_list_markers_and_headings_as_text(user_flows, text):  # noqa: F811
    from markdown_it import MarkdownIt

    with open_store() as store:
        d = Dialogue.start(store, "mini", E.StartOptions(clinic="Fysio"))
        d.do(E.Answer(text))
        d.do(E.AddNote(text))
        md = export_bytes(store, d.state, d.row, "md").decode()
    tokens = MarkdownIt("commonmark").parse(md)
    # The answer is the export's block quote, the note the one item of the list after "Anteckningar:".
    answer = _inside(tokens, "blockquote_open", "blockquote_close")
    assert [t.type for t in answer] == ["paragraph_open", "inline", "paragraph_close"], md
    notes_at = next(i for i, t in enumerate(tokens) if t.type == "inline" and t.content == "Anteckningar:")
    note = _inside(tokens, "list_item_open", "list_item_close", after=notes_at)
    assert [t.type for t in note] == ["paragraph_open", "inline", "paragraph_close"], md
    for block in (answer, note):
        shown = "".join(c.content if c.type == "text" else "\n" for c in block[1].children)
        assert [line.strip() for line in shown.split("\n")] == [line.strip() for line in text.split("\n")]


# Every kind of character the fast paths of textsafe must tell apart: plain and Swedish letters,
# spaces (ASCII, NBSP, en space), line and paragraph separators, C0 and C1 controls, DEL, ESC,
# bidi overrides and isolates, zero-width and soft-hyphen format characters, an emoji, a surrogate.
ALPHABET = list("aåÄö1 .\"\\/{}[]:,") + [
    "\u00a0", "\u2002", "\u2028", "\u2029", "\n", "\t", "\r", "\x00", "\x07", "\x1b", "\x1f", "\x7f",
    "\x85", "\x9b", "\u202e", "\u2066", "\u2069", "\u200b", "\u00ad", "\U0001f600", "\ud800", "  ",
]


def _texts(count: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    return [NASTY, VISIBLE, ""] + ["".join(rng.choices(ALPHABET, k=rng.randint(0, 30))) for _ in range(count)]


def test_one_line_is_the_text_flattened_with_controls_shown():
    """``one_line`` and ``terminal_safe`` skip their work for text with nothing to replace: for every
    text they give what their definition gives – each control shown by ``_visible``, whitespace runs
    as one space, cut at ``width`` with an ellipsis."""
    from assistant.textsafe import _CONTROL, _visible, one_line, terminal_safe

    for text in _texts(5000, 1):
        shown = _CONTROL.sub(_visible, text)
        assert terminal_safe(text) == shown, repr(text)
        flat = " ".join(shown.split())
        for width in (80, 12):
            assert one_line(text, width) == (flat if len(flat) <= width else flat[: width - 1] + "…"), repr(text)
    assert one_line("Ring  tillbaka\tom\u00a0en vecka") == "Ring tillbaka om en vecka"
    assert one_line("a\x1b[31mb") == "a␛[31mb" and one_line("x\u202ey") == "x<U+202E>y"
    assert one_line(" ok ") == "ok" and one_line("abcdef", 4) == "abc…"


def test_json_lists_are_the_json_text_of_the_whole_list():
    """``json_array`` (``list --json``, ``actions --json``) writes exactly what ``json.dumps`` with an
    indent of 2 writes for the whole list, with the characters a terminal would act on escaped."""
    import random

    from assistant.textsafe import json_array

    rng = random.Random(2)
    texts = _texts(400, 3)
    scalars = [None, True, False, 0, -7, 2**70, 1.5, float("nan"), float("inf"), *texts]
    rows = [{rng.choice(texts): rng.choice(scalars) for _ in range(rng.randint(0, 6))} for _ in range(300)]
    rows += [{"nested": {"a": [1, "å"]}}, {"list": [None]}, {1: "int key"}, [1, 2], "text", 3, {"d": object()}]
    for chunk in (rows, rows[:1], []):
        out = "".join(json_array(chunk, default=lambda o: "obj"))
        expected = json.dumps(chunk, ensure_ascii=False, indent=2, default=lambda o: "obj") + "\n"
        for ch in "\x7f\x85\x9b\u2028\u2029\u202e\u2066\u2069":
            expected = expected.replace(ch, f"\\u{ord(ch):04x}")
        assert out == expected
        assert json.loads(out, parse_constant=lambda c: c) is not None
