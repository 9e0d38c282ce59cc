"""Untrusted text stays text: markup, escapes, HTML and templates in every export and view."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from assistant import engine as E
from assistant.engine.step import clean_text
from assistant.export import export_bytes, transcript_text
from assistant.session import Dialogue, open_store
from tests.test_chat import user_flows  # noqa: F401 - fixture

NASTY = (
    "[b]fet[/b] [@click=app.quit]klick[/] [link=https://x.invalid]länk[/link] "
    "\x1b[31mröd\x1b]8;;https://x.invalid\x07OSC\x1b]8;;\x07 "
    "<script>alert(1)</script> <img src=x onerror=alert(1)> "
    "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %} [x](javascript:alert(1)) # rubrik"
)


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


def test_html_export_escapes_everything(nasty_dialogue):
    store, d = nasty_dialogue
    html = export_bytes(store, d.state, d.row, "html").decode()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and ">49" not in html and " 49 " not in html
    assert "loop" not in html.replace("{% for x in range(3) %}loop{% endfor %}", "")
    assert "\x1b" not in html and "\x07" not in html
    assert "␛[31mröd" in html
    assert html.count("<script") == 0
    assert "Content-Security-Policy" in html


def test_markdown_export_makes_no_markup(nasty_dialogue):
    store, d = nasty_dialogue
    md = export_bytes(store, d.state, d.row, "md").decode()
    assert "<script>" not in md.replace("\\<script\\>", "") and "\\<script\\>alert(1)\\</script\\>" in md
    assert "\\[x\\](javascript:alert(1))" in md  # not a link
    assert "\\[b\\]fet\\[/b\\]" in md
    assert "{{ 7\\*7 }}" in md
    assert "\x1b" not in md


def test_docx_export_holds_the_text_literally(nasty_dialogue):
    from docx import Document

    store, d = nasty_dialogue
    data = export_bytes(store, d.state, d.row, "docx")
    assert zipfile.is_zipfile(io.BytesIO(data))
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "<script>alert(1)</script>" in text
    assert "{{ 7*7 }}" in text
    assert "[@click=app.quit]klick[/]" in text


def test_json_export_is_lossless(nasty_dialogue):
    store, d = nasty_dialogue
    data = json.loads(export_bytes(store, d.state, d.row, "json"))
    answers = [e["text"] for e in data["events"] if e["kind"] == "answered"]
    assert answers == [NASTY]


def test_terminal_transcript_has_no_escape_bytes(nasty_dialogue):
    _, d = nasty_dialogue
    text = transcript_text(d.state, d.row)
    assert "\x1b" not in text and "\x07" not in text
    assert "[@click=app.quit]klick[/]" in text
    assert "{{ 7*7 }}" in text


@pytest.mark.parametrize(
    "answer",
    [
        "x" * 1_048_576,  # a 1 MB paste
        "مرحبا بالعالم – ‏עברית‏ \u202eevil",  # right-to-left text and an override
        "👩‍⚕️🏥 bra 💪🏽",
        "tab\there\x00nul\x08bs\x7fdel",
        "  mellanslag runt om  ",
    ],
)
def test_odd_answers_are_stored_and_exported(user_flows, answer):  # noqa: F811
    with open_store() as store:
        d = Dialogue.start(store, "mini", E.StartOptions(clinic="Fysio"))
        d.do(E.Answer(answer))
        stored = [e.text for e in store.load_events(d.id) if e.kind == "answered"][0]
        assert stored == clean_text(answer)
        for fmt in ("md", "html", "docx", "json"):
            assert export_bytes(store, d.state, d.row, fmt)
        transcript_text(d.state, d.row)


@pytest.mark.parametrize("answer", ["", "   ", "\n\n", "\t"])
def test_empty_answers_are_refused_with_a_message(user_flows, answer):  # noqa: F811
    with open_store() as store:
        d = Dialogue.start(store, "mini", E.StartOptions(clinic="Fysio"))
        with pytest.raises(E.EngineError, match="tomt"):
            d.do(E.Answer(answer))
        assert [e.kind for e in store.load_events(d.id)] == ["started", "prompted"]
