"""The words (issue #15, point 11): one glossary, the same term everywhere, and the small phrases
a user tripped over – answer hints, plurals, the meeting clock, the question counter, English
operating system errors, a flag's states said twice, a question printed twice."""

from __future__ import annotations

import errno
import io
import re

import pytest

from assistant import engine as E
from assistant import glossary
from tests.conftest import REPO, run_cli
from tests.test_engine import Session
from tests.test_tui import start_dialogue

# ---------------------------------------------------------------- one term for one thing


def sources_with_text():
    for folder, pattern in (("assistant", "*.py"), ("prompts", "*.j2"), ("flows", "*.toml"), ("docs", "anvandarguide.md")):
        for path in (REPO / folder).rglob(pattern):
            if path.name != "glossary.py":
                yield path


def test_no_synonym_of_a_glossary_term_is_used():
    found = []
    for path in sources_with_text():
        text = path.read_text(encoding="utf-8").casefold()
        for word, instead in glossary.AVOID.items():
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text):
                found.append(f"{path.relative_to(REPO)}: {word!r} (säg {instead!r})")
    assert found == []


def test_the_statistics_glossary_uses_the_same_data_terms():
    table = (REPO / "docs" / "statistics.md").read_text(encoding="utf-8").split("## Words", 1)[1].split("\n## ", 1)[0]
    for term in glossary.DATA_TERMS:
        assert f"*{term.word}*" in table, term.word


def test_the_help_the_line_mode_and_the_documents_explain_the_terms(mini_flow, clock):
    from assistant import report
    from assistant.tui.modals import help_content

    helped = help_content().plain
    assert all(t.word in helped and t.means in helped for t in glossary.GLOSSARY)
    doc = report.build(Session(mini_flow, clock).state, {"id": "x"})
    assert [t["word"] for t in doc["glossary"]] == ["berört", "ej berört", "parkeringsplatsen"]


# ---------------------------------------------------------------- phrases


@pytest.mark.parametrize(
    ("kind", "other", "hint"),
    [
        ("single", False, "Svara med siffran eller texten."),
        ("single", True, "Svara med siffran eller skriv ett eget svar."),
        ("multi", False, "Svara med en eller flera siffror (t.ex. 1, 3) eller texten."),
        ("text", False, None),
    ],
)
def test_a_single_choice_question_asks_for_one_digit(kind, other, hint):
    assert glossary.answer_hint(kind, allow_other=other) == hint


def test_the_prompt_view_hints_by_question_type(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Jump("konkret"))
    view = E.prompt_view(s.state)
    assert view.type == "single" and view.answer_hint == "Svara med siffran eller skriv ett eget svar."
    s.do(E.Jump("P4"))
    s.do(E.Skip())
    assert E.prompt_view(s.state).answer_hint == "Svara med ett tal."


@pytest.mark.parametrize(("n", "text"), [(0, "0 rader"), (1, "1 rad"), (2, "2 rader")])
def test_counted(n, text):
    assert glossary.counted(n, "rad", "rader") == text


def test_importing_one_row_says_one_row(tmp_path):
    path = tmp_path / "en.csv"
    path.write_text("enhet;indikator;period;täljare;nämnare\nFysio X;telefontillganglighet;2025;80;100\n", encoding="utf-8")
    code, out, err = run_cli("data", "import", str(path))
    assert code == 0, err
    assert out.startswith("Importerade 1 rad (1 ny, 0 ändrade, 0 oförändrade)")


def test_operating_system_errors_are_swedish(tmp_path):
    from assistant.fileio import reason

    assert reason(FileNotFoundError(errno.ENOENT, "No such file or directory")) == "finns inte"
    assert reason(OSError(errno.ECONNRESET, "Connection reset by peer")) == f"systemfel ECONNRESET ({errno.ECONNRESET})"
    code, out, err = run_cli("data", "import", str(tmp_path / "saknas.csv"))
    assert code == 2 and "No such file" not in err and "finns inte" in err


def test_the_question_counter_is_the_place_in_the_area_and_does_not_jump(mini_flow, clock):
    s = Session(mini_flow, clock, focus={"mottagningen": ("p4",)})
    view = E.prompt_view(s.state)
    assert (view.section, view.position, view.total) == ("p4", 1, 3)  # the focus area first
    s.do(E.Jump("P1"))
    view = E.prompt_view(s.state)
    assert (view.position, view.total) == (1, 2)
    s.do(E.Answer("Tre"))
    assert (E.prompt_view(s.state).position, E.prompt_view(s.state).total) == (2, 2)
    assert glossary.question_counter(2, 2) == "fråga 2 av 2"


def test_the_meeting_clock():
    assert glossary.meeting_time(12 * 60 + 59, 90) == "Mötestid 12 av 90 min"


def test_a_flag_says_clearly_worse_once():
    from assistant.flagstates import state_words

    assert state_words(["misses_target", "worse_than_peers", "clearly_worse_than_peers"]) == [
        "når inte målet",
        "tydligt sämre än jämförbara enheter",
    ]


# ---------------------------------------------------------------- the line mode


def line_chat(dialogue, script: str, interactive: bool = True):
    from assistant.chat import LineChat

    out = io.StringIO()
    chat = LineChat(dialogue, inp=io.StringIO(script), out=out, interactive=interactive)
    chat.run(fresh=True)
    return out.getvalue()


def test_finishing_in_the_line_mode_names_the_untouched_areas(mini, store, clock):
    d = start_dialogue(store, clock)
    d.do(E.Answer("Tre fysioterapeuter"))
    out = line_chat(d, "/klar\nn\n/avsluta\n")
    before_question = out.split("Avsluta dialogen?", 1)[0]
    assert "Ej berört ännu: P2 Syfte, P3 Processer, P4 Mönster." in before_question
    assert "Dialogen fortsätter." in out


def test_status_and_header_say_the_meeting_time_the_same_way(mini, store, clock):
    d = start_dialogue(store, clock)
    out = line_chat(d, "/status\n/avsluta\n")
    assert "fråga 1 av 2 · mötestid 0 av 60 min" in out
    assert "Mötestid 0 av 60 min." in out
    assert "00:00" not in out


def test_the_shipped_self_assessment_asks_its_first_question_once(store, clock):
    d = start_dialogue(store, clock, flow="fysioterapi-2023", mode="self")
    out = line_chat(d, "/avsluta\n")
    assert out.count("Vilka arbetar här hos oss?") == 1
