"""Every rule in every shipped flow can fire from some state.

For each rule the witness is built from the rule's condition alone – the answers it names, the
focus, the clock, and indicator data made to produce the flag it asks for (through the real
import-free ``compute_flags``, from rows written here) – never by running the rule evaluator over
candidate states and keeping the ones it accepts. Then ``suggestions`` must offer the rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant import engine as E
from assistant.conditions import (
    All,
    Answered,
    AnyOf,
    ContainsAny,
    Equals,
    Flag,
    Focus,
    Mode,
    Selected,
    Skipped,
    TimeUsed,
    Untouched,
)
from assistant.data.flags import compute_flags
from assistant.flows import load_flow
from assistant.indicators import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
FLOWS = sorted(p.stem for p in (ROOT / "flows").glob("*.toml") if p.name not in ("indicators.toml", "topics.toml", "metod.toml"))
CATALOGUE = load_catalogue(ROOT / "flows" / "indicators.toml")
T0 = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
YEARS = ("2022", "2023", "2024", "2025")


class Witness:
    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.focus: set[str] = set()
        self.flags: list[tuple[str, dict]] = []  # (indicator, what the flag must show)
        self.time_share = 0.0
        self.mode = "facilitator"
        self.untouched: set[str] = set()


def build(cond, w: Witness) -> None:
    match cond:
        case Answered(answered=q):
            w.answers.setdefault(q, "Ett svar.")
        case ContainsAny(contains_any=qw):
            w.answers[qw.question] = f"Vi pratade om {qw.words[0]} i vintras."
        case Equals(equals=qv) | Selected(selected=qv):
            w.answers[qv.question] = qv.value
        case Focus(focus=s):
            w.focus.add(s)
        case Flag(flag=ref):
            wants = [{"state": st} for st in ref.any_of]
            if ref.peers:
                wants.append({"peers": ref.peers})
            if ref.change:
                wants.append({"change": ref.change})
            w.flags.append((ref.indicator, wants))
        case TimeUsed(time_used=share):
            w.time_share = max(w.time_share, share)
        case Untouched(untouched=section):
            w.untouched.add(section)  # nothing there is answered; the screen shows another section
        case Mode(mode=m):
            w.mode = m
        case All(all=items):
            for c in items:
                build(c, w)
        case AnyOf(any=items):
            build(items[0], w)  # the first branch (a flag branch has its own alternatives, see flag_for)
        case Skipped():
            raise AssertionError("no shipped rule should need a skipped question")  # extend when one does
        case _:
            raise AssertionError(f"the witness builder does not know {cond!r}")


# ---------------------------------------------------------------- indicator data that makes a flag


def rows_for(indicator: str, want: dict) -> list[dict]:
    """Peers and a clinic "A" whose data makes ``want`` true, written from the catalogue's facts."""
    ind = CATALOGUE.get(indicator)
    level = 0.55
    target = ind.target
    if target is not None:
        level = min(0.97, target + 0.06) if ind.direction == "higher" else max(0.02, target - 0.03)
    bad = -1 if ind.direction == "higher" else 1  # the direction of "worse"
    rows = []

    def add(clinic, year, value, n=1000):
        rows.append(
            {
                "clinic": clinic,
                "indicator": indicator,
                "period": year,
                "numerator": float(round(value * n)),
                "denominator": float(n),
                "value": round(value * n) / n,
                "kind": "fysioterapi",
            }
        )

    for c in range(10):
        for i, year in enumerate(YEARS):
            add(f"P{c}", year, level + 0.004 * ((c + i) % 3 - 1))
    state = want.get("state")
    series = [level] * 4
    if state == "insufficient_data":
        for year in YEARS:
            add("A", year, 0.5, n=10)
        return rows
    if state in ("misses_target", "possibly_misses_target"):
        if target is None or ind.direction == "neutral":
            return []  # the catalogue gives this indicator no target: the state cannot be made
        if state == "possibly_misses_target":
            # just under the target, among peers that are there too, with a steady history
            rows.clear()
            for c in range(10):
                for i, year in enumerate(YEARS):
                    add(f"P{c}", year, target + bad * 0.012 + 0.004 * ((c + i) % 3 - 1), n=300)
            for year in YEARS:
                add("A", year, target + bad * 0.012, n=300)
            return rows
        series = [target + bad * 0.2] * 4
    elif state in ("worse_than_peers", "clearly_worse_than_peers") or want.get("peers"):
        side = {"higher": 1, "lower": -1}.get(want.get("peers"), bad if state else -1)
        series = [level + side * 0.25] * 4
    elif state in ("better_than_peers", "clearly_better_than_peers"):
        series = [level - bad * 0.25] * 4
    elif want.get("change"):
        side = {"higher": 1, "lower": -1}.get(want.get("change"), 1)
        series = [level, level, level, level + side * 0.2]
    elif state == "worse_than_previous":  # from well above back to the peers' level: only the history moved
        series = [level - bad * 0.15] * 3 + [level]
    elif state == "better_than_previous":
        series = [level + bad * 0.15] * 3 + [level]
    for year, value in zip(YEARS, series, strict=True):
        add("A", year, min(0.99, max(0.01, value)))
    return rows


def shows(flag, want: dict) -> bool:
    if "state" in want:
        return want["state"] in flag.states
    if "peers" in want:
        return flag.peer_position is not None and want["peers"] in (flag.peer_position, "outside")
    return flag.change_position is not None and want["change"] in (flag.change_position, "any")


def flag_for(indicator: str, wants: list[dict] | dict):
    """The flag of the first of ``wants`` that this indicator's data can show (per the catalogue)."""
    for want in [wants] if isinstance(wants, dict) else wants:
        rows = rows_for(indicator, want)
        if not rows:
            continue
        flag = next(f for f in compute_flags(rows, CATALOGUE, "A", "2025") if f.indicator == indicator)
        if shows(flag, want):
            return flag
    raise AssertionError(f"no data makes {indicator} show any of {wants}")


# ---------------------------------------------------------------- driving the engine


def state_for(flow, w: Witness):
    now = T0
    events = E.start(flow, E.StartOptions(clinic="A", mode=w.mode), now)
    state = E.replay(flow, events)

    def do(command, minutes=1.0):
        nonlocal state, now
        now += timedelta(minutes=minutes)
        made = E.step(state, command, now)
        state = E.advance(state, made)

    if w.focus:
        do(E.ChooseFocus("Mottagningen", tuple(sorted(w.focus))))
    for qid, text in sorted(w.answers.items(), key=lambda qa: flow.order[qa[0]]):
        section = flow.section_of[qid].id
        do(E.Jump(section))
        for _ in range(200):
            if state.current is None or state.current.qid == qid:
                break
            do(E.Skip())
        assert state.current is not None and state.current.qid == qid, f"cannot reach {qid}"
        do(E.Answer(text))
    if w.untouched:
        do(E.Jump(next(sec.id for sec in reversed(flow.sections) if sec.id not in w.untouched)))
    needed = w.time_share * flow.meeting_minutes * 60 - state.elapsed_seconds(now)
    while needed > 0:  # let meeting time pass: notes every 25 minutes (a gap over 30 is a pause)
        do(E.AddNote("…"), minutes=25)
        needed -= 25 * 60
    return state, now + timedelta(minutes=1)


@pytest.mark.parametrize("name", FLOWS)
def test_every_rule_in_every_shipped_flow_can_fire(name):
    flow = load_flow(ROOT / "flows" / f"{name}.toml", CATALOGUE).flow
    silent = []
    for rule in flow.rules:
        w = Witness()
        build(rule.when, w)
        flags = [flag_for(indicator, want) for indicator, want in w.flags]
        state, now = state_for(flow, w)
        if rule.id not in {s.rule for s in E.suggestions(state, flags, now)}:
            silent.append(rule.id)
    assert silent == []


def test_the_too_little_data_rules_fire_as_the_user_guide_promises():
    flow = load_flow(ROOT / "flows" / "fysioterapi-2023.toml", CATALOGUE).flow
    state, now = state_for(flow, Witness())
    for indicator, rule in (("telefontillganglighet", "telefon-for-lite-data"), ("rehabplaner", "rehabplaner-for-lite-data")):
        flag = flag_for(indicator, {"state": "insufficient_data"})
        assert flag.states == ["insufficient_data"]
        offered = {s.rule: s for s in E.suggestions(state, [flag], now)}
        assert set(offered) == {rule}  # too little data never raises a question about the value itself
        assert offered[rule].questions == ("p4.data.datakallor",)


def test_data_first_the_validity_question_leads_when_a_value_stands_out():
    flow = load_flow(ROOT / "flows" / "fysioterapi-2023.toml", CATALOGUE).flow
    flag = flag_for("telefontillganglighet", {"state": "worse_than_peers"})
    assert flag.stands_out and "misses_target" in flag.states  # also an improvement question's trigger
    state, now = state_for(flow, Witness())
    found = E.suggestions(state, [flag], now)
    assert found[0].rule == "data-telefon"
    assert "stämmer siffrorna" in found[0].text
    assert "telefon-under-mal" in [s.rule for s in found[1:]]
    # a value that misses its target but sits among its peers and its own history: no data question
    quiet = flag_for("telefontillganglighet", {"state": "possibly_misses_target"})
    assert not quiet.stands_out
    assert "data-telefon" not in [s.rule for s in E.suggestions(state, [quiet], now)]
