"""The order of a meeting after a jump, and what counts as touching an area (issue #15, point 4).

With focus areas P3, P5 and P4 on the vårdcentral flow, a jump from P5 to P1 used to go on with
the areas after P1 in the flow (P2, Sammanfattning, Återkoppling) and only then back to P5; P4's
own questions were never offered, and Konkret exempel (an exercise inside P4) made P4 count as
touched. Both doors walk the engine, so this is where it is tested.
"""

from __future__ import annotations

from assistant import engine as E
from assistant.flows import get_flow
from tests.test_engine import Session


def vardcentral():
    return get_flow("vardcentral").flow


def sections_walked(s: Session, steps: int) -> list[str]:
    """Skip ``steps`` questions and return the sections they belonged to, in order, once each."""
    seen: list[str] = []
    for _ in range(steps):
        if s.state.current is None:
            break
        section = s.state.current.section
        if not seen or seen[-1] != section:
            seen.append(section)
        s.do(E.Skip())
    return seen


def test_after_a_jump_the_remaining_areas_keep_their_planned_order(clock):
    flow = vardcentral()
    s = Session(flow, clock, focus={"vardcentralen": ("p3", "p5", "p4")})
    assert s.state.current.section == "p3"
    while s.state.current.section == "p3":
        s.do(E.Answer("Svar"))
    assert s.state.current.section == "p5"
    s.do(E.Answer("Ett svar i P5"))  # P5 has more questions left
    s.do(E.Jump("P1"))
    assert s.state.current.section == "p1"
    walked = sections_walked(s, 400)
    # P1 first (the jump), then what is left of P5, P4 (planned), P2, and the closing sections last.
    assert walked == ["p1", "p5", "p4", "p2", "sammanfattning", "aterkoppling"]


def test_jumping_to_the_summary_wraps_up_forward(clock):
    """A jump to Sammanfattning means the meeting is wrapping up: Återkoppling comes next, not the
    areas left over."""
    flow = vardcentral()
    s = Session(flow, clock, focus={"vardcentralen": ("p3", "p5")})
    s.do(E.Answer("Svar"))
    s.do(E.Jump("sammanfattning"))
    walked = sections_walked(s, 400)
    assert walked[:2] == ["sammanfattning", "aterkoppling"]
    assert "p4" in walked[2:]  # the leftovers are still offered afterwards


def test_konkret_exempel_does_not_touch_its_area(clock):
    flow = vardcentral()
    s = Session(flow, clock, focus={"vardcentralen": ("p3", "p5", "p4")})
    s.do(E.Jump("konkret"))  # the exercise inside P4
    assert s.state.current.qid == "p4.konkret.omrade"
    for _ in range(3):
        s.do(E.Answer("Telefonen"))
    p4 = next(a for a in E.coverage(s.state) if a.section == "p4")
    assert p4.answered == 0 and not p4.touched and p4.status == "untouched"
    assert [(x.title, x.answered, x.total) for x in p4.exercises] == [("Konkret exempel", 3, 5)]
    assert p4.total == len(flow.section_questions("p4")) - 5  # the exercise is counted apart
    # The time warning names P4 as not yet touched.
    for _ in range(flow.meeting_minutes // 20):  # meeting time passes (a gap over 30 min is a pause)
        s.do(E.AddNote("tiden går"), minutes=20)
    untouched = [w for w in E.warnings(s.state, clock()) if "ännu inte berört" in w]
    assert untouched and "P4" in untouched[0]
    # One ordinary question answered does touch it.
    s.do(E.Jump("P4"))
    s.do(E.Answer("Huvudprocesserna är …"))
    p4 = next(a for a in E.coverage(s.state) if a.section == "p4")
    assert p4.answered == 1 and p4.touched


def test_the_question_counter_and_the_coverage_count_the_same_questions(clock):
    """The heading said "fråga 1 av 34" in P4 while the areas panel said 0/29: the counter counted
    Konkret exempel's five steps among P4's questions, the coverage apart."""
    flow = vardcentral()
    s = Session(flow, clock, focus={"vardcentralen": ("p4",)})
    assert s.state.current.section == "p4"
    view = E.prompt_view(s.state)
    p4 = next(a for a in E.coverage(s.state) if a.section == "p4")
    assert (view.position, view.total) == (1, p4.total)
    s.do(E.Jump("konkret"))
    s.do(E.Answer("Telefonen"))
    view = E.prompt_view(s.state)
    assert view.subarea == "Konkret exempel" and (view.position, view.total) == (2, 5)
