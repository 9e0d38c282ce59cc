"""Flags: the states, exactly as documented in assistant/data/flags.py, and the demo stories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.conditions import FLAG_STATES
from assistant.data import stats
from assistant.data.flags import (
    STATE_LABELS,
    STATES,
    FlagRow,
    compute_flags,
    flag_to_json,
    newest_per_indicator,
)
from assistant.flows import load_catalogue
from assistant.indicators import Catalogue, Indicator

ROOT = Path(__file__).resolve().parents[1]
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(ROOT / "flows" / "indicators.toml")


def row(clinic, indicator, period, k=None, n=None, value=None, direction=None, target=None):
    if value is None and k is not None and n:
        value = k / n
    return {
        "clinic": clinic,
        "indicator": indicator,
        "period": period,
        "numerator": None if k is None else float(k),
        "denominator": None if n is None else float(n),
        "value": value,
        "direction": direction,
        "target": target,
    }


def peers(indicator, period="2025", rate=0.88, n=1000, count=6):
    """``count`` identical peers: no overdispersion from them."""
    return [row(f"Peer {i}", indicator, period, round(rate * n), n) for i in range(count)]


def one(flags, indicator=None, period=None):
    found = [
        f
        for f in flags
        if (indicator is None or f.indicator == indicator) and (period is None or f.period == period)
    ]
    assert len(found) == 1, found
    return found[0]


def plain(text):
    return text.replace(NBSP, " ")


# ---------------------------------------------------------------- the state names


def test_state_names_are_the_engines():
    assert set(STATES) == set(FLAG_STATES)
    assert set(STATE_LABELS) == set(STATES)


# ---------------------------------------------------------------- small clinics are never flagged on noise


small_case = st.integers(min_value=1, max_value=29).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.integers(min_value=0, max_value=n),  # k now
        st.integers(min_value=1, max_value=5000),  # previous n
        st.floats(min_value=0, max_value=1),  # previous rate
        st.lists(
            st.tuples(st.integers(min_value=1, max_value=5000), st.floats(min_value=0, max_value=1)),
            min_size=0,
            max_size=8,
        ),
        st.sampled_from(
            ["telefontillganglighet", "mangsokare", "besok_distans", "npe_respekt", "rehabplaner"]
        ),
        st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
    )
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_case)
def test_small_clinic_is_never_flagged_on_noise(catalogue, case):
    n, k, prev_n, prev_rate, peer_list, indicator, target = case
    rows = [row("Liten", indicator, "2025", k, n, target=target)]
    rows.append(row("Liten", indicator, "2024", round(prev_rate * prev_n), prev_n))
    for i, (pn, rate) in enumerate(peer_list):
        rows.append(row(f"Peer {i}", indicator, "2025", round(rate * pn), pn))
    flag = one(compute_flags(rows, catalogue, "Liten", "2025"))
    assert flag.states == ["insufficient_data"]
    assert any(
        "För få observationer" in note and f"minst {catalogue.get(indicator).min_n}" in note
        for note in flag.notes
    )


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=400), st.data())
@example(199, None)
@example(200, None)
@example(201, None)
def test_min_n_comes_from_the_catalogue(n, data):
    """Below min_n a row is insufficient_data and nothing else; at min_n and above it is judged."""
    cat = Catalogue(
        indicators=[Indicator(id="x", name="X", source="test", direction="higher", target=0.9, min_n=200)]
    )
    k = data.draw(st.integers(min_value=0, max_value=n)) if data is not None else n // 2
    flag = one(compute_flags([row("A", "x", "2025", k, n)], cat, "A"))
    if n < 200:
        assert flag.states == ["insufficient_data"]
    else:
        assert "insufficient_data" not in flag.states
        assert not any("För få observationer" in note for note in flag.notes)
        if k / n < 0.9:  # judged against the target like any other row
            assert flag.states[0] in ("misses_target", "possibly_misses_target")


@pytest.mark.parametrize(("n", "insufficient"), [(29, True), (30, False), (31, False)])
def test_the_catalogues_min_n_is_the_first_n_that_counts(catalogue, n, insufficient):
    assert catalogue.get("telefontillganglighet").min_n == 30
    flag = one(compute_flags([row("Liten", "telefontillganglighet", "2025", 0, n)], catalogue, "Liten"))
    assert flag.states == (["insufficient_data"] if insufficient else ["misses_target"])


@pytest.mark.parametrize(("n", "counts"), [(29, False), (30, True)])
def test_a_peer_with_exactly_min_n_is_compared_with(catalogue, n, counts):
    assert catalogue.get("npe_respekt").min_n == 30
    rows = peers("npe_respekt", rate=0.88, n=1000, count=2) + [row("A", "npe_respekt", "2025", 700, 1000)]
    rows.append(row("Third", "npe_respekt", "2025", round(0.88 * n), n))
    flag = one(compute_flags(rows, catalogue, "A"))
    assert flag.peer_count == (3 if counts else None)
    assert any("bara 2 andra enheter" in note for note in flag.notes) != counts


@pytest.mark.parametrize(("n", "compared"), [(29, False), (30, True)])
def test_a_previous_period_with_exactly_min_n_is_compared_with(catalogue, n, compared):
    rows = [row("A", "npe_respekt", "2024", n, n), row("A", "npe_respekt", "2025", 500, 1000)]
    flag = one(compute_flags(rows, catalogue, "A", "2025"))
    assert flag.states == (["worse_than_previous"] if compared else [])
    assert any("Ingen jämförelse med 2024" in note for note in flag.notes) != compared


def test_insufficient_text_example(catalogue):
    flag = one(compute_flags([row("Liten", "telefontillganglighet", "2025", 6, 12)], catalogue, "Liten"))
    assert flag.states == ["insufficient_data"]
    assert (
        "För få observationer (n = 12, minst 30) för att dra slutsatser – slumpen kan förklara skillnaden."
        in flag.notes
    )
    assert flag.ci_low is not None  # the interval is still shown: it is what makes the point


# ---------------------------------------------------------------- target


def test_misses_target_text(catalogue):
    flag = one(compute_flags([row("Norr", "telefontillganglighet", "2025", 939, 1204)], catalogue, "Norr"))
    assert flag.states == ["misses_target"]
    assert plain(flag.text).startswith("78 % (n = 1 204), mål 85 %, 95 % KI 76–80 %. Under målet")
    assert flag.ci_high < 0.85
    assert flag.target == 0.85 and flag.n == 1204 and flag.numerator == 939
    assert any("Ingen jämförelse med andra enheter" in note for note in flag.notes)


def test_possibly_misses_target(catalogue):
    # 80 % of 100: Wilson 71–87 % reaches the 85 % target (78 of 100 would not: 68.9–84.9998 %)
    flag = one(compute_flags([row("A", "telefontillganglighet", "2025", 80, 100)], catalogue, "A"))
    assert flag.states == ["possibly_misses_target"]
    assert flag.ci_high >= 0.85
    assert "slump" in flag.text


def test_edge_of_the_interval(catalogue):
    flag = one(compute_flags([row("A", "telefontillganglighet", "2025", 78, 100)], catalogue, "A"))
    assert flag.ci_high < 0.85 and flag.states == ["misses_target"]


def test_meets_target_and_exactly_on_target(catalogue):
    for k in (85, 90):
        flag = one(compute_flags([row("A", "telefontillganglighet", "2025", k, 100)], catalogue, "A"))
        assert flag.states == []
        assert "Når målet." in flag.text


def test_lower_is_better_threshold(catalogue):
    # mångsökare: 8 % of 900 against the 5 % threshold
    flag = one(compute_flags([row("A", "mangsokare", "2025", 72, 900)], catalogue, "A"))
    assert flag.states == ["misses_target"]
    assert "mål högst 5" in plain(flag.text) and "Över målet" in flag.text
    flag = one(compute_flags([row("A", "mangsokare", "2025", 40, 900)], catalogue, "A"))
    assert flag.states == []
    flag = one(compute_flags([row("A", "mangsokare", "2025", 6, 100)], catalogue, "A"))
    assert flag.states == ["possibly_misses_target"]


def test_row_target_replaces_catalogue_target(catalogue):
    flag = one(
        compute_flags([row("A", "telefontillganglighet", "2025", 900, 1000, target=0.95)], catalogue, "A")
    )
    assert flag.target == 0.95 and flag.states == ["misses_target"]


def test_value_without_n_compares_with_target_only(catalogue):
    rows = [row("A", "telefontillganglighet", "2025", value=0.70)] + peers("telefontillganglighet")
    rows.append(row("A", "telefontillganglighet", "2024", 950, 1000))
    flag = one(compute_flags(rows, catalogue, "A", "2025"))
    assert flag.states == ["possibly_misses_target"]
    assert flag.n is None and flag.ci_low is None and flag.ci_high is None
    assert "osäkerheten är okänd" in flag.text
    assert any("osäkerheten är okänd" in note for note in flag.notes)
    assert flag.peer_count is None


def test_neutral_indicator_never_gets_target_or_worse_better(catalogue):
    rows = [row("A", "besok_distans", "2025", 702, 3900, target=0.5)] + peers(
        "besok_distans", rate=0.06, n=3000
    )
    rows.append(row("A", "besok_distans", "2024", 250, 4000))
    flag = one(compute_flags(rows, catalogue, "A", "2025"))
    assert flag.states == []
    assert flag.target is None
    assert "högre än hos andra enheter" in flag.text and "neutral" in flag.text
    assert "ingen värdering" in flag.text
    assert any("registreras" in note for note in flag.notes)


# ---------------------------------------------------------------- peers


def test_worse_and_clearly_worse_than_peers(catalogue):
    base = peers("npe_respekt", rate=0.88, n=1000)
    pooled_limits = []
    for k, expected in ((850, ["worse_than_peers"]), (830, ["worse_than_peers", "clearly_worse_than_peers"])):
        rows = base + [row("A", "npe_respekt", "2025", k, 1000)]
        flag = one(compute_flags(rows, catalogue, "A"))
        assert flag.states == expected
        # the limits are the exact binomial funnel around the pooled proportion of all seven clinics
        pooled = (6 * 880 + k) / 7000
        assert flag.pooled == pytest.approx(pooled)
        assert flag.peer_low == pytest.approx(stats.binomial_limit(1000, pooled, 0.025))
        assert flag.peer_count == 6 and not flag.widened
        pooled_limits.append(flag.peer_low)
    assert "tydligt sämre" in flag.text


def test_better_and_clearly_better_than_peers(catalogue):
    base = peers("npe_respekt", rate=0.80, n=500)
    rows = base + [row("A", "npe_respekt", "2025", 428, 500)]  # 85.6 %
    assert one(compute_flags(rows, catalogue, "A")).states == ["better_than_peers"]
    rows = base + [row("A", "npe_respekt", "2025", 460, 500)]  # 92 %
    assert one(compute_flags(rows, catalogue, "A")).states == [
        "better_than_peers",
        "clearly_better_than_peers",
    ]


def test_lower_direction_peers(catalogue):
    base = peers("mangsokare", rate=0.03, n=2000)
    rows = base + [row("A", "mangsokare", "2025", 40, 2000)]  # 2 % against 3 %: better
    assert "better_than_peers" in one(compute_flags(rows, catalogue, "A")).states
    rows = base + [row("A", "mangsokare", "2025", 90, 2000)]  # 4.5 %: worse and clearly worse
    states = one(compute_flags(rows, catalogue, "A")).states
    assert "worse_than_peers" in states and "clearly_worse_than_peers" in states


def test_inside_the_funnel_no_state(catalogue):
    rows = peers("npe_respekt", rate=0.88, n=1000) + [row("A", "npe_respekt", "2025", 875, 1000)]
    flag = one(compute_flags(rows, catalogue, "A"))
    assert flag.states == [] and "inom det förväntade" in flag.text


def test_peers_need_three_others_with_sufficient_n(catalogue):
    rows = peers("npe_respekt", rate=0.88, n=1000, count=2) + [row("A", "npe_respekt", "2025", 700, 1000)]
    rows += [row("Small", "npe_respekt", "2025", 20, 20), row("NoN", "npe_respekt", "2025", value=0.9)]
    flag = one(compute_flags(rows, catalogue, "A"))
    assert flag.states == []
    assert flag.peer_count is None
    assert any("bara 2 andra enheter" in note and "minst 3" in note for note in flag.notes)
    rows += [row("Third", "npe_respekt", "2025", 880, 1000)]
    flag = one(compute_flags(rows, catalogue, "A"))
    assert flag.peer_count == 3 and "worse_than_peers" in flag.states


def test_peers_only_compare_the_same_period(catalogue):
    rows = peers("npe_respekt", period="2024", rate=0.88, n=1000) + [
        row("A", "npe_respekt", "2025", 700, 1000)
    ]
    assert one(compute_flags(rows, catalogue, "A")).peer_count is None


def test_overdispersion_widens_and_says_so(catalogue):
    rates = [0.35, 0.45, 0.55, 0.65, 0.40, 0.60, 0.50, 0.58]
    rows = [
        row(f"P{i}", "levnadsvanor_dokumenterade", "2025", round(r * 400), 400) for i, r in enumerate(rates)
    ]
    rows.append(row("A", "levnadsvanor_dokumenterade", "2025", 160, 400))  # 40 %
    flag = one(compute_flags(rows, catalogue, "A"))
    assert flag.widened
    # unwidened, 40 % of 400 would be far outside the binomial funnel around ~50 %
    narrow = stats.funnel(400, flag.pooled)
    assert flag.value < narrow.low998
    assert flag.states == []  # but the clinics vary far more than chance: no flag
    assert (
        "gränserna är vidgade eftersom variationen mellan enheter är större än slumpen förklarar"
        in flag.text.lower()
    )
    assert any("vidgade" in note for note in flag.notes)
    rows[-1] = row("A", "levnadsvanor_dokumenterade", "2025", 20, 400)  # 5 %: outside even the wide limits
    flag = one(compute_flags(rows, catalogue, "A"))
    assert flag.widened and "worse_than_peers" in flag.states


# ---------------------------------------------------------------- previous period


def test_worse_and_better_than_previous(catalogue):
    rows = [row("A", "npe_respekt", "2024", 1006, 1150), row("A", "npe_respekt", "2025", 939, 1204)]
    flag = one(compute_flags(rows, catalogue, "A", "2025"))
    assert flag.states == ["worse_than_previous"]
    assert flag.previous_period == "2024" and flag.change_p < 0.05
    assert "Sämre än 2024" in flag.text
    rows = [row("A", "npe_respekt", "2024", 939, 1204), row("A", "npe_respekt", "2025", 1006, 1150)]
    assert one(compute_flags(rows, catalogue, "A", "2025")).states == ["better_than_previous"]


def test_no_state_when_change_is_within_chance(catalogue):
    rows = [row("A", "npe_respekt", "2024", 80, 100), row("A", "npe_respekt", "2025", 75, 100)]
    flag = one(compute_flags(rows, catalogue, "A", "2025"))
    assert flag.states == [] and "kan vara slump" in flag.text


def test_previous_is_the_period_sorting_just_before(catalogue):
    rows = [
        row("A", "npe_respekt", "2024-Q9", 500, 1000),
        row("A", "npe_respekt", "2024-Q10", 900, 1000),
        row("A", "npe_respekt", "2024-Q11", 890, 1000),
        row("B", "npe_respekt", "2024-Q10", 100, 1000),  # another clinic's period does not count
    ]
    flags = compute_flags(rows, catalogue, "A")
    assert [f.period for f in flags] == ["2024-Q9", "2024-Q10", "2024-Q11"]  # newest last
    assert flags[1].previous_period == "2024-Q9" and flags[1].states == ["better_than_previous"]
    assert flags[2].previous_period == "2024-Q10" and flags[2].states == []


def test_previous_with_too_few_is_not_compared(catalogue):
    rows = [row("A", "npe_respekt", "2024", 20, 20), row("A", "npe_respekt", "2025", 500, 1000)]
    flag = one(compute_flags(rows, catalogue, "A", "2025"))
    assert flag.states == []
    assert any("Ingen jämförelse med 2024" in note for note in flag.notes)


def test_lower_direction_previous(catalogue):
    rows = [row("A", "mangsokare", "2024", 30, 1000), row("A", "mangsokare", "2025", 60, 1000)]
    assert "worse_than_previous" in one(compute_flags(rows, catalogue, "A", "2025")).states


# ---------------------------------------------------------------- misc


def test_unknown_indicator_uses_the_rows_direction_and_target(catalogue):
    rows = [row("A", "vantetid_7_dagar", "2025", 70, 100, direction="higher", target=0.9)]
    flag = one(compute_flags(rows, catalogue, "A"))
    assert flag.direction == "higher" and flag.target == 0.9
    assert flag.states == ["misses_target"]
    assert "katalogen" in flag.source


def test_clinic_names_match_case_insensitively(catalogue):
    rows = [row("Fysio Norr", "npe_respekt", "2025", 80, 100)]
    flag = one(compute_flags(rows, catalogue, "fysio  NORR"))
    assert flag.clinic == "Fysio Norr"


def test_flag_to_json(catalogue):
    flag = one(compute_flags([row("A", "telefontillganglighet", "2025", 939, 1204)], catalogue, "A"))
    data = flag_to_json(flag)
    for key in (
        "indicator",
        "period",
        "value",
        "n",
        "ci_low",
        "ci_high",
        "states",
        "label",
        "target",
        "text",
        "notes",
    ):
        assert key in data
    assert data["states"] == ["misses_target"]
    assert data["state_labels"] == ["når inte målet"]
    json.dumps(data, ensure_ascii=False)
    assert isinstance(flag, FlagRow)


# ---------------------------------------------------------------- the demo stories


@pytest.fixture(scope="module")
def demo_rows(catalogue):
    from assistant.data import DEMO_FILE
    from assistant.data.importer import parse_indicator_file

    res = parse_indicator_file(DEMO_FILE, catalogue)
    assert res.errors == []
    return res.rows


def test_demo_fysio_norr(catalogue, demo_rows):
    flags = compute_flags(demo_rows, catalogue, "Fysio Norr (påhittad)")
    assert [f.period for f in flags] == sorted((f.period for f in flags), key=stats.period_key)
    tel = one(flags, "telefontillganglighet", "2025")
    assert tel.states == [
        "misses_target",
        "worse_than_peers",
        "clearly_worse_than_peers",
        "worse_than_previous",
    ]
    assert plain(tel.text).startswith("78 % (n = 1 204), mål 85 %, 95 % KI 76–80 %.")
    assert one(flags, "telefontillganglighet", "2024").states == []
    assert one(flags, "npe_tillganglighet", "2025").states == ["worse_than_peers"]
    fine = [f for f in flags if f.period == "2025" and not f.states]
    assert len(fine) >= 10  # most things are fine


def test_demo_fysio_liten(catalogue, demo_rows):
    flags = compute_flags(demo_rows, catalogue, "Fysio Liten (påhittad)", "2025")
    few = [f for f in flags if f.states == ["insufficient_data"]]
    assert len(few) >= 5
    assert all(f.states in ([], ["insufficient_data"]) for f in flags)
    extreme = {f.indicator: f.value for f in few}
    assert extreme["npe_helhetsintryck"] == 1.0
    assert extreme["boa_deltagande"] == 0.0
    assert extreme["telefontillganglighet"] < 0.5


def test_demo_other_stories(catalogue, demo_rows):
    def states(clinic, indicator):
        return one(compute_flags(demo_rows, catalogue, clinic, "2025"), indicator).states

    assert states("Fysio Söder (påhittad)", "rehabplaner") == ["possibly_misses_target"]
    assert "misses_target" in states("Fysio Skogen (påhittad)", "rehabplaner")
    assert "clearly_better_than_peers" in states("Vårdcentralen Exempel (påhittad)", "npe_kontinuitet")
    assert "misses_target" in states("Fysio Hamnen (påhittad)", "mangsokare")
    assert states("Rehab Centrum (påhittad)", "besok_distans") == []  # neutral: explained in the text only
    assert "worse_than_peers" in states("Fysio Väster (påhittad)", "levnadsvanor_dokumenterade")
    assert compute_flags(demo_rows, catalogue, "Fysio Mitt (påhittad)", "2025")  # has data
    for f in compute_flags(demo_rows, catalogue, "Fysio Mitt (påhittad)", "2025"):
        assert f.states == []


def test_newest_per_indicator(catalogue, demo_rows):
    flags = compute_flags(demo_rows, catalogue, "Fysio Norr (påhittad)")
    newest = newest_per_indicator(flags)
    assert len(newest) == 16
    assert {f.period for f in newest} == {"2025"}
    assert [f.indicator for f in newest] == [i.id for i in catalogue.indicators]
