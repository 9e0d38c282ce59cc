""""Data som diskuterades" (issue #15, point 8): the topic actually discussed is in the summary and
every export – a note, answers and actions about telephone access count, not only questions the
flow ties to the indicator."""

from __future__ import annotations

from assistant import engine as E
from assistant.engine.discussed import discussed
from assistant.flows import get_flow
from assistant.report import indicator_links
from tests.test_engine import Session

TEL = {
    "indicator": "telefontillganglighet",
    "label": "Telefontillgänglighet",
    "period": "2025",
    "text": "77 % (n = 1 204), mål 85 %",
    "states": ["misses_target", "worse_than_peers"],
}
NPE = {"indicator": "npe_tillganglighet", "label": "NPE tillgänglighet", "period": "2025", "text": "61 %", "states": ["worse_than_peers"]}


def meeting(clock) -> Session:
    s = Session(get_flow("fysioterapi-2023").flow, clock)
    s.do(E.ShowFlags((TEL, NPE)))
    return s


def at_question(clock, qid: str) -> Session:
    """A meeting with the flags shown, at ``qid`` in P5 (the questions before it skipped)."""
    s = meeting(clock)
    s.do(E.Jump("p5"))
    while s.state.current.qid != qid:
        s.do(E.Skip())
    return s


def labels(s: Session, links=True) -> list[str]:
    found = discussed(s.state, indicator_links(s.flow) if links else None)
    return [f["label"] for f in found]


def test_nothing_said_about_the_data_discusses_nothing(clock):
    s = meeting(clock)
    s.do(E.Answer("Tre fysioterapeuter och en rehabassistent."))
    s.do(E.AddNote("Lokalerna är trånga."))
    assert labels(s) == []


def test_answers_to_the_topics_questions_count(clock):
    """Öppettider is one of the telephone topic's questions (topics.toml), not tied to the
    indicator in the flow: answering it discusses telephone access."""
    s = at_question(clock, "p5.tillganglighet.oppettider")
    s.do(E.Answer("Vi har telefontid 8–9 och det räcker inte."))
    assert labels(s) == ["Telefontillgänglighet"]
    assert labels(s, links=False) == []  # the topic catalogue is what ties it


def test_a_note_or_an_action_while_its_question_is_on_screen_counts(clock):
    s = at_question(clock, "p5.tillganglighet.utmaningar")
    s.do(E.AddNote("Många ringer flera gånger innan de kommer fram."))
    assert labels(s) == ["Telefontillgänglighet"]
    s2 = at_question(clock, "p5.tillganglighet.telefon")
    s2.do(E.AddAction("Inför återuppringning", "Eva", "2026-06-30"))
    assert labels(s2) == ["Telefontillgänglighet"]


def test_a_taken_topic_suggestion_counts(clock):
    s = meeting(clock)
    offered = E.Suggestion(
        sid="amne.telefon.p1.vilka", rule="amne.telefon", reason="Ni nämnde telefontillgängligheten.",
        questions=("p5.tillganglighet.utmaningar",), topic="telefon",
    )
    s.do(E.Offer((offered,)))
    s.do(E.Accept(offered.sid))
    assert labels(s) == ["Telefontillgänglighet"]


def test_the_summary_and_the_exports_say_it(clock, isolated_dirs):
    """Both doors and every format read report.build: the line mode's summary and the Markdown."""
    from assistant import report
    from assistant.export import render_document

    s = at_question(clock, "p5.tillganglighet.oppettider")
    s.do(E.Answer("Telefonen är ett problem."))
    row = {"id": "d1", "clinic": "Fysio Norr", "started": "2026-03-12"}
    doc = report.build(s.state, row)
    assert [f["label"] for f in doc["flags_discussed"]] == ["Telefontillgänglighet"]
    md = render_document(s.state, row, "md").decode()
    section = md.split("## Data som diskuterades", 1)[1].split("\n## ", 1)[0]
    assert "Telefontillgänglighet" in section and "NPE" not in section
