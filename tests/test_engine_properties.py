"""Property-based: any sequence of user commands leaves a consistent, replayable state."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import engine as E
from assistant.flows import load_flow
from tests.conftest import FIXTURES, T0
from tests.test_engine import FakeFlag, _fingerprint

FLOW = load_flow(FIXTURES / "flows" / "mini.toml").flow
SECTIONS = [s.id for s in FLOW.sections] + ["P1", "P3", "B", "9", "nope"]
FLAGS = [FakeFlag("telefontillganglighet", ["misses_target"])]

texts = st.text(max_size=60) | st.sampled_from(["1", "2", "levnadsvanor", "12,5", "3", "fall i trappan", "[b]x[/b]"])

commands = st.one_of(
    st.builds(E.Answer, texts),
    st.just(E.Skip()),
    st.just(E.Back()),
    st.just(E.Park()),
    st.just(E.ReturnToParked()),
    st.just(E.EndSection()),
    st.builds(E.Jump, st.sampled_from(SECTIONS)),
    st.builds(E.AddNote, texts),
    st.builds(E.AddAction, texts, st.none() | st.just("Anna"), st.none() | st.just("2027-01-31")),
    st.just("offer"),
    st.integers(min_value=0, max_value=5).map(lambda i: ("accept", i)),
    st.integers(min_value=0, max_value=5).map(lambda i: ("dismiss", i)),
    st.just(E.Finish()),
    st.just(E.Reopen()),
    st.builds(E.Correct, st.sampled_from([q.id for q in FLOW.questions]), texts),
)


def run(cmds):
    events = E.start(FLOW, E.StartOptions(clinic="Fysio Norr"), T0)
    state = E.replay(FLOW, events)
    now = T0
    for cmd in cmds:
        now += timedelta(minutes=3)
        if cmd == "offer":
            cmd = E.Offer(tuple(E.suggestions(state, FLAGS, now)))
        elif isinstance(cmd, tuple):
            kind, i = cmd
            sids = sorted(state.offered)
            if not sids:
                continue
            sid = sids[i % len(sids)]
            cmd = E.Accept(sid) if kind == "accept" else E.Dismiss(sid)
        try:
            made = E.step(state, cmd, now)
        except E.EngineError as exc:
            assert str(exc)  # a message for the user, never empty
            continue
        assert [e.seq for e in made] == list(range(state.last_seq + 1, state.last_seq + 1 + len(made)))
        events += made
        state = E.advance(state, made)
        E.coverage(state, now)
        E.warnings(state, now)
        E.prompt_view(state)
    return events, state


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(commands, max_size=40))
def test_random_commands_never_crash_and_replay_is_exact(cmds):
    events, state = run(cmds)
    assert _fingerprint(E.replay(FLOW, events)) == _fingerprint(state)
    # invariants
    assert not (set(state.parked) & set(state.answers))
    if state.current is not None:
        assert state.current.qid in FLOW.question_index or state.current.qid in state.followups
    for a in E.coverage(state):
        assert a.answered + a.skipped + a.parked + a.untouched == a.total


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(commands, max_size=25), st.integers(min_value=0, max_value=40))
def test_any_prefix_of_the_log_replays(cmds, cut):
    events, _ = run(cmds)
    E.replay(FLOW, events[: max(1, min(cut, len(events)))])
