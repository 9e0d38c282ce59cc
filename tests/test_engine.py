"""The dialogue engine: walking a flow, navigation, parking, coverage, replay."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from assistant import engine as E


def begin(flow, clock, **kw):
    events = E.start(flow, E.StartOptions(clinic=kw.pop("clinic", "Fysio Norr"), **kw), clock())
    return events, E.replay(flow, events)


class Session:
    """Drives the engine like a door does: step, keep the events, advance."""

    def __init__(self, flow, clock, **kw):
        self.flow = flow
        self.clock = clock
        self.events, self.state = begin(flow, clock, **kw)

    def do(self, command, minutes: float = 1):
        self.clock.tick(minutes=minutes)
        made = E.step(self.state, command, self.clock())
        self.events += made
        self.state = E.advance(self.state, made)
        return made

    @property
    def qid(self):
        return self.state.current.qid if self.state.current else None


def test_start_prompts_first_question(mini_flow, clock):
    events, state = begin(mini_flow, clock)
    assert [e.kind for e in events] == ["started", "prompted"]
    assert state.current.qid == "p1.vilka"
    assert state.current.text == "Vilka arbetar här?"
    assert state.status == "in_progress"


def test_answers_walk_the_flow_in_order(mini_flow, clock):
    s = Session(mini_flow, clock)
    seen = []
    while s.qid and len(seen) < 20:
        seen.append(s.qid)
        answer = {"p3.omrade": "2", "p4.antal": "12,5", "p4.betyg": "4"}.get(s.qid, "Svar")
        s.do(E.Answer(answer))
    # p3.levnadsvanor_extra is relevant because "levnadsvanor" (choice 2) was picked
    assert seen == [
        "p1.vilka",
        "p1.miljo",
        "p2.vision",
        "p3.utmaningar",
        "p3.avvikelser",
        "p3.omrade",
        "p3.tanker",
        "p3.levnadsvanor_extra",
        "p4.telefon",
        "p4.antal",
        "p4.betyg",
        "sammanfattning.bra",
        "sammanfattning.jobba_vidare",
        "aterkoppling.kommande_mote",
    ]
    assert s.state.current is None
    assert s.state.values["p3.omrade"] == "levnadsvanor"
    assert s.state.answers["p3.omrade"] == "Levnadsvanor"
    assert s.state.values["p4.antal"] == 12.5


def test_template_text_quotes_earlier_answer(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Jump("p3"))
    s.do(E.Skip())
    s.do(E.Skip())
    assert s.qid == "p3.omrade"
    s.do(E.Answer("Artros"))
    assert s.state.current.text == "Vad tänker ni om det? (Artros)"


def test_irrelevant_question_is_not_asked(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Jump("p3"))
    s.do(E.Skip())
    s.do(E.Skip())
    s.do(E.Answer("rehabplaner"))
    s.do(E.Answer("Vi tänker mycket."))
    # Not "Hur når ni dem med ohälsosamma levnadsvanor?": the area is done, and the planned order
    # goes on from its start (P1 was jumped over).
    assert s.qid == "p1.vilka"
    assert "p3.levnadsvanor_extra" not in [e.qid for e in s.events if e.kind == "prompted"]


def test_user_text_in_answers_is_never_a_template(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Jump("p3"))
    s.do(E.Skip())
    s.do(E.Skip())
    s.do(E.Answer("{{ 7*7 }} {% for x in range(3) %}x{% endfor %}"))
    assert s.state.current.text == "Vad tänker ni om det? ({{ 7*7 }} {% for x in range(3) %}x{% endfor %})"


def test_skip_back_and_reanswer(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Answer("Tre fysioterapeuter"))
    s.do(E.Skip())
    assert s.qid == "p2.vision"
    s.do(E.Back())
    assert s.qid == "p1.miljo"
    s.do(E.Back())
    assert s.qid == "p1.vilka"
    assert E.prompt_view(s.state).previous_answer == "Tre fysioterapeuter"
    with pytest.raises(E.EngineError):
        s.do(E.Back())
    s.do(E.Answer("Fyra fysioterapeuter"))
    assert s.state.answers["p1.vilka"] == "Fyra fysioterapeuter"
    # p1.miljo was skipped, so the walk goes on to the next open question
    assert s.qid == "p2.vision"
    assert "p1.miljo" in s.state.skipped


def test_park_and_return_to_parked(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Park())
    assert s.state.parked == ["p1.vilka"]
    assert s.qid == "p1.miljo"
    s.do(E.ReturnToParked())
    assert s.qid == "p1.vilka"
    s.do(E.Answer("Fem personer"))
    assert s.state.parked == []
    assert s.qid == "p1.miljo"  # the question the detour interrupted


def test_jump_by_area_number_and_id(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Jump("P4"))
    assert s.qid == "p4.telefon"
    s.do(E.Jump("2"))
    assert s.qid == "p2.vision"
    s.do(E.Jump("sammanfattning"))
    assert s.qid == "sammanfattning.bra"
    with pytest.raises(E.EngineError, match="Okänt avsnitt"):
        s.do(E.Jump("P9"))


def test_end_section_early(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Answer("Tre"))
    s.do(E.EndSection())
    assert s.qid == "p2.vision"
    cov = {c.section: c for c in E.coverage(s.state)}
    assert cov["p1"].ended and cov["p1"].answered == 1 and cov["p1"].untouched == 1


def test_coverage_counts_and_warning_state(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Answer("Tre"))
    s.do(E.Skip())
    cov = {c.section: c for c in E.coverage(s.state)}
    assert (cov["p1"].answered, cov["p1"].skipped, cov["p1"].untouched) == (1, 1, 0)
    assert cov["p1"].status == "complete"
    assert cov["p2"].status == "untouched"
    assert [c.section for c in E.coverage(s.state)] == ["p1", "p2", "p3", "p4"]


def test_time_budget_and_short_time_warning(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Answer("Tre"), minutes=12)  # P1 budget is 10 min
    s.do(E.Back(), minutes=1)
    warnings = E.warnings(s.state, clock())
    assert "P1 Personal har gått över sin planerade tid (10 min)." in warnings
    # 46 of 60 minutes pass (each gap under the pause limit)
    for _ in range(3):
        s.do(E.AddNote("anteckning"), minutes=11)
    warnings = E.warnings(s.state, clock())
    assert any("ännu inte berört" in w and "P4 Mönster" in w for w in warnings)


def test_long_gap_is_a_pause_not_meeting_time(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Answer("Tre"), minutes=5)
    s.do(E.Answer("Bra"), minutes=24 * 60)  # resumed the next day
    assert s.state.elapsed_seconds() == 5 * 60


def test_notes_and_actions(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.AddNote("Chefen ny sedan i våras"))
    s.do(E.AddAction("Se över telefontiderna", owner="Anna", due="2027-03-31"))
    assert s.state.notes[0].text == "Chefen ny sedan i våras"
    assert s.state.notes[0].qid == "p1.vilka"
    action = s.state.actions["a1"]
    assert (action.owner, action.due, action.status) == ("Anna", "2027-03-31", "open")
    s.do(E.UpdateAction("a1", status="done"))
    assert s.state.actions["a1"].status == "done"
    with pytest.raises(E.EngineError, match="ÅÅÅÅ-MM-DD"):
        s.do(E.AddAction("x", due="31/3"))
    with pytest.raises(E.EngineError, match="giltigt"):
        s.do(E.AddAction("x", due="2027-02-30"))


def test_answer_validation_by_type(mini_flow, clock):
    s = Session(mini_flow, clock)
    with pytest.raises(E.EngineError, match="tomt"):
        s.do(E.Answer("   \n  "))
    s.do(E.Jump("P4"))
    s.do(E.Skip())
    with pytest.raises(E.EngineError, match="tal"):
        s.do(E.Answer("många"))
    s.do(E.Answer("1 204"))
    with pytest.raises(E.EngineError, match="1 till 5"):
        s.do(E.Answer("7"))
    s.do(E.Answer("5"))
    assert s.state.values["p4.betyg"] == 5


def test_self_mode_uses_we_phrasing_and_skips_facilitator_sections(mini_flow, clock):
    s = Session(mini_flow, clock, mode="self")
    assert s.state.current.text == "Vilka arbetar här hos oss?"
    assert "aterkoppling.kommande_mote" not in s.state.order
    assert "aterkoppling" not in [c.section for c in E.coverage(s.state, all_sections=True)]


def test_focus_areas_come_first(mini_flow, clock):
    events, state = begin(mini_flow, clock, focus={"mottagningen": ("p4",), "vardvalsenheten": ("p3",)})
    assert state.current.qid == "p4.telefon"
    assert state.order[:6] == ["p4.telefon", "p4.antal", "p4.betyg", "p3.utmaningar", "p3.avvikelser", "p3.omrade"]


def test_prepared_dialogue_waits_for_the_meeting(mini_flow, clock):
    events, state = begin(mini_flow, clock, prepared=True)
    assert state.status == "prepared" and state.current is None
    with pytest.raises(E.EngineError, match="förberedd"):
        E.step(state, E.Answer("x"), clock())
    made = E.step(state, E.Open(), clock.tick(days=3))
    state = E.advance(state, made)
    assert state.status == "in_progress" and state.current.qid == "p1.vilka"


def test_finish_then_correct_keeps_history(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Answer("Tre fysioterapeuter"))
    s.do(E.Finish())
    with pytest.raises(E.EngineError, match="avslutad"):
        s.do(E.Answer("x"))
    s.do(E.Correct("p1.vilka", "Tre fysioterapeuter och en rehabassistent", who="Anna"))
    assert s.state.answers["p1.vilka"] == "Tre fysioterapeuter och en rehabassistent"
    c = s.state.corrections[0]
    assert (c.previous, c.who) == ("Tre fysioterapeuter", "Anna")
    kinds = [e.kind for e in s.events]
    assert kinds.count("answered") == 1 and kinds.count("corrected") == 1


def test_personal_identity_number_is_masked_before_storing(mini_flow, clock):
    s = Session(mini_flow, clock)
    made = s.do(E.Answer("Patienten 19811218-9876 föll i väntrummet"))
    assert made[0].text == "Patienten ÅÅÅÅMMDD-XXXX föll i väntrummet"
    assert made[1].kind == "pii_masked"
    assert "9876" not in "".join(e.text or "" for e in s.events)


def test_replay_equals_incremental_state(mini_flow, clock):
    s = Session(mini_flow, clock)
    for cmd in [E.Answer("a"), E.Park(), E.Answer("b"), E.Back(), E.AddNote("n"), E.Jump("P3"), E.Skip()]:
        s.do(cmd)
    assert _fingerprint(E.replay(mini_flow, s.events)) == _fingerprint(s.state)


def test_replay_rejects_a_gap_or_unknown_question(mini_flow, clock):
    events, _ = begin(mini_flow, clock)
    with pytest.raises(E.ReplayError, match="gap"):
        E.replay(mini_flow, [events[0], E.Event(seq=3, kind="noted", at=clock(), text="x")])
    with pytest.raises(E.ReplayError, match="unknown question"):
        E.replay(mini_flow, [events[0], E.Event(seq=2, kind="answered", at=clock(), qid="nope", text="x")])


def _fingerprint(state: E.State):
    return (
        state.status,
        state.current,
        dict(state.answers),
        dict(state.values),
        sorted(state.skipped),
        list(state.parked),
        list(state.history),
        [n.text for n in state.notes],
        {k: (a.text, a.status) for k, a in state.actions.items()},
        sorted(state.ended_sections),
        state.elapsed,
        dict(state.section_seconds),
    )


# ---------------------------------------------------------------- suggestions


@dataclass
class FakeFlag:
    indicator: str
    states: list[str]
    value: float = 0.78
    n: int = 1204
    target: float = 0.85
    label: str = "Telefontillgänglighet"


def test_flag_rule_suggests_linked_question_with_figures(mini_flow, clock):
    s = Session(mini_flow, clock)
    flags = [FakeFlag("telefontillganglighet", ["misses_target", "worse_than_peers"])]
    found = E.suggestions(s.state, flags, clock())
    tel = next(x for x in found if x.rule == "tel-under-mal")
    assert tel.questions == ("p4.telefon",)
    assert tel.reason == "Telefontillgängligheten var 78\u00a0% (n = 1\u00a0204), mål 85\u00a0%."
    assert found[0].rule == "tel-under-mal"
    # no flag, no suggestion
    assert not [x for x in E.suggestions(s.state, [], clock()) if x.rule == "tel-under-mal"]
    # insufficient data never fires the rule
    assert not [
        x for x in E.suggestions(s.state, [FakeFlag("telefontillganglighet", ["insufficient_data"])], clock())
        if x.rule == "tel-under-mal"
    ]


def test_accepted_suggestion_becomes_next_prompt_and_is_recorded(mini_flow, clock):
    s = Session(mini_flow, clock)
    flags = [FakeFlag("telefontillganglighet", ["misses_target"])]
    offered = E.suggestions(s.state, flags, clock())
    s.do(E.Offer(tuple(offered)))
    made = s.do(E.Accept("tel-under-mal"))
    assert [e.kind for e in made] == ["suggestion_accepted", "prompted"]
    assert s.qid == "p4.telefon"
    s.do(E.Answer("Vi har infört återuppringning"))
    # back to the question the suggestion interrupted
    assert s.qid == "p1.vilka"
    assert "tel-under-mal" not in [x.sid for x in E.suggestions(s.state, flags, clock())]


def test_keyword_rule_matches_swedish_word_forms(mini_flow, clock):
    for answer, word in [
        ("Vi har haft flera fallolyckor", "fallolyckor"),
        ("Avvikelserapporteringen fungerar dåligt", "Avvikelserapporteringen"),
        ("Ett ärende enligt Lex Maria i höstas", "Lex Maria"),
    ]:
        s = Session(mini_flow, clock)
        s.do(E.Answer("Tre"))
        s.do(E.Answer(answer))
        rule = next(x for x in E.suggestions(s.state, [], clock()) if x.rule == "avvikelser")
        assert rule.reason == f"Ni nämnde {word} – hur fungerar avvikelserapporteringen?"
    s = Session(mini_flow, clock)
    s.do(E.Answer("Tre"))
    s.do(E.Answer("Vi har ett tillfälle i veckan för reflektion"))
    assert "avvikelser" not in [x.rule for x in E.suggestions(s.state, [], clock())]


def test_dismissed_suggestion_stays_dismissed(mini_flow, clock):
    s = Session(mini_flow, clock)
    flags = [FakeFlag("telefontillganglighet", ["misses_target"])]
    s.do(E.Offer(tuple(E.suggestions(s.state, flags, clock()))))
    s.do(E.Dismiss("tel-under-mal"))
    assert "tel-under-mal" not in [x.sid for x in E.suggestions(s.state, flags, clock())]
    assert s.events[-1].kind == "suggestion_dismissed"


def test_followup_text_suggestion(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Jump("P2"))
    s.do(E.Answer("Bästa fysioterapin i norr"))
    s.do(E.Offer(tuple(E.suggestions(s.state, [], clock()))))
    s.do(E.Accept("foljd-vision"))
    assert s.qid == "foljd.foljd-vision"
    assert s.state.current.text == "Hur känner medarbetarna till visionen?"
    s.do(E.Answer("Genom APT"))
    assert s.state.answers["foljd.foljd-vision"] == "Genom APT"
    assert {c.section: c.answered for c in E.coverage(s.state)}["p2"] == 2
    assert _fingerprint(E.replay(mini_flow, s.events)) == _fingerprint(s.state)


def test_action_suggestion_turns_answer_into_action(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Jump("sammanfattning"))
    s.do(E.Skip())
    s.do(E.Answer("Korta telefonkön"))
    s.do(E.Offer(tuple(E.suggestions(s.state, [], clock()))))
    s.do(E.Accept("atgarder"))
    assert [a.text for a in s.state.actions.values()] == ["Korta telefonkön"]


def test_untouched_area_suggested_as_time_runs_out(mini_flow, clock):
    s = Session(mini_flow, clock)
    assert "p4-orord" not in [x.rule for x in E.suggestions(s.state, [], clock())]
    for _ in range(4):
        s.do(E.AddNote("pratar"), minutes=10)
    assert "p4-orord" in [x.rule for x in E.suggestions(s.state, [], clock())]


def test_focus_raises_rank(mini_flow, clock):
    events, state = begin(mini_flow, clock, focus={"mottagningen": ("p3",)})
    state = E.advance(state, E.step(state, E.Jump("P1"), clock()))
    state = E.advance(state, E.step(state, E.Skip(), clock()))
    state = E.advance(state, E.step(state, E.Answer("fall i trappan"), clock()))
    flags = [FakeFlag("telefontillganglighet", ["possibly_misses_target"])]
    ranked = [x.rule for x in E.suggestions(state, flags, clock())]
    assert ranked.index("avvikelser") < ranked.index("tel-under-mal")


def test_suggestion_covered_by_a_better_one_is_left_out(mini_flow, clock):
    from assistant.flows import Flow

    data = mini_flow.model_dump(by_alias=True, exclude_none=True)
    data["rules"].append(
        {
            "id": "tel-samre-an-forra",
            "when": {"flag": {"indicator": "telefontillganglighet", "any_of": ["worse_than_previous"]}},
            "suggest": ["p4.telefon"],
            "reason": "Sämre än förra året.",
            "priority": 10,
        }
    )
    flow = Flow.model_validate(data)
    s = Session(flow, clock)
    flags = [FakeFlag("telefontillganglighet", ["misses_target", "worse_than_previous"])]
    rules = [x.rule for x in E.suggestions(s.state, flags, clock())]
    assert "tel-under-mal" in rules and "tel-samre-an-forra" not in rules


def test_parking_a_question_gone_back_to_keeps_its_answer(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Answer("Tre"))
    s.do(E.Back())
    s.do(E.Park())
    assert s.state.parked == [] and s.state.answers["p1.vilka"] == "Tre"
    assert s.qid == "p1.miljo"


def test_masking_can_be_turned_off_by_setting_or_flow(mini_flow, clock):
    s = Session(mini_flow, clock, mask_pii=False)
    made = s.do(E.Answer("811218-9876"))
    assert made[0].text == "811218-9876" and [e.kind for e in made] == ["answered", "prompted"]
    flow = mini_flow.model_copy(update={"mask_identity_numbers": False})
    s = Session(flow, clock)
    assert s.do(E.Answer("811218-9876"))[0].text == "811218-9876"


def test_a_suggested_exercise_step_brings_the_rest_of_the_exercise(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Answer("Tre"))
    s.do(E.Answer("Vi pratar mycket om levnadsvanor"))
    s.do(E.Offer(tuple(E.suggestions(s.state, [], clock()))))
    s.do(E.Accept("konkret-levnadsvanor"))
    assert s.qid == "p3.omrade"
    s.do(E.Answer("levnadsvanor"))
    assert s.qid == "p3.tanker"  # step 2 follows, not a jump back
    s.do(E.Answer("Vi tänker mycket"))
    assert s.qid == "p3.levnadsvanor_extra"
    s.do(E.Answer("Genom samtal"))
    assert s.qid == "p2.vision"  # the exercise done, back where the suggestion interrupted


def test_jump_to_a_subarea(mini_flow, clock):
    s = Session(mini_flow, clock)
    s.do(E.Jump("konkret"))
    assert s.qid == "p3.omrade"
    s.do(E.Jump("Patientsäk"))
    assert s.qid == "p3.utmaningar"
    assert E.replay(mini_flow, s.events).current.qid == "p3.utmaningar"


# ---------------------------------------------------------------- several choices


@pytest.fixture
def multi_flow():
    """The mini flow with its Konkret exempel area picked as several choices (no answer of its own)."""
    import tomllib

    from assistant.flows import parse_flow
    from tests.conftest import FIXTURES

    data = tomllib.loads((FIXTURES / "flows" / "mini.toml").read_text(encoding="utf-8"))
    omrade = data["sections"][2]["subareas"][1]["questions"][0]
    assert omrade["id"] == "p3.omrade"
    omrade.update(type="multi", allow_other=False)
    return parse_flow(data, "mini.toml")


@pytest.mark.parametrize(
    ("typed", "shown", "values"),
    [
        ("1, 2", "Rehabplaner, Levnadsvanor", ["rehabplaner", "levnadsvanor"]),
        ("2; 1", "Levnadsvanor, Rehabplaner", ["levnadsvanor", "rehabplaner"]),  # in the order picked
        ("1, 1", "Rehabplaner", ["rehabplaner"]),
        ("levnadsvanor, Levnadsvanor, 2, LEVNADSVANOR", "Levnadsvanor", ["levnadsvanor"]),
        ("3, artros ; Rehabplaner,1,3", "Artros, Rehabplaner", ["artros", "rehabplaner"]),
        (" 1 ,, 2 ", "Rehabplaner, Levnadsvanor", ["rehabplaner", "levnadsvanor"]),
    ],
)
def test_several_choices_are_stored_once_each_in_the_order_picked(multi_flow, clock, typed, shown, values):
    s = Session(multi_flow, clock)
    s.do(E.Jump("p3"))
    s.do(E.Skip())
    s.do(E.Skip())
    assert s.qid == "p3.omrade"
    made = s.do(E.Answer(typed))
    assert [(e.kind, e.text) for e in made if e.kind == "answered"] == [("answered", shown)]
    assert s.state.answers["p3.omrade"] == shown
    assert s.state.values["p3.omrade"] == values
    replayed = E.replay(multi_flow, s.events)
    assert (replayed.answers["p3.omrade"], replayed.values["p3.omrade"]) == (shown, values)
    # a follow-up that depends on one of the choices appears only when it was picked
    assert s.state.relevant("p3.levnadsvanor_extra") == ("levnadsvanor" in values)


def test_an_unknown_choice_is_refused_with_the_options(multi_flow, clock):
    s = Session(multi_flow, clock)
    s.do(E.Jump("p3"))
    s.do(E.Skip())
    s.do(E.Skip())
    with pytest.raises(E.EngineError, match=r"^Okänt alternativ '4'\. Välj bland: 1\. Rehabplaner, 2\. Levnadsvanor, 3\. Artros$"):
        s.do(E.Answer("1, 4"))
    assert "p3.omrade" not in s.state.answers
