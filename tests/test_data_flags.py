"""Flags: the states, exactly as documented in assistant/data/flags.py, and the demo stories."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from assistant.conditions import FLAG_STATES
from assistant.data import stats
from assistant.data.flags import (
    STATE_LABELS,
    STATES,
    Analysis,
    FlagRow,
    compute_flags,
    flag_to_json,
    newest_per_indicator,
)
from assistant.indicators import Catalogue, Indicator, load_catalogue

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
    assert [h[0] for h in flag.history] == (["2024", "2025"] if compared else ["2025"])
    assert ("Jämfört med egna perioder 2024–2025" in flag.text) == compared
    assert any("Ingen jämförelse med tidigare perioder" in note for note in flag.notes) != compared


def test_insufficient_text_example(catalogue):
    flag = one(compute_flags([row("Liten", "telefontillganglighet", "2025", 6, 12)], catalogue, "Liten"))
    assert flag.states == ["insufficient_data"]
    assert (
        "För få observationer (n = 12, minst 30) för att dra slutsatser – slumpen kan förklara skillnaden."
        in flag.notes
    )
    assert flag.ci_low is not None  # the interval is still shown: it is what makes the point


# ---------------------------------------------------------------- target


def target_limit(n, target, sigma2=0.0):
    """Independent: the 99.8 % limit of a clinic exactly on the target (normal, additive variance)."""
    return target - norm.ppf(0.999) * math.sqrt(target * (1 - target) / n + sigma2)


def test_misses_target_text(catalogue):
    flag = one(compute_flags([row("Norr", "telefontillganglighet", "2025", 939, 1204)], catalogue, "Norr"))
    assert flag.states == ["misses_target"]
    assert plain(flag.text).startswith(
        "78 % (n = 1 204), mål 85 %, 95 % osäkerhetsintervall 76–80 %. Jämfört med målet: under målet med mer "
        "än vanlig variation förklarar"
    )
    assert flag.summary == "78\u00a0% (n = 1\u00a0204), mål 85\u00a0%"
    # alone, with no peers and no series, only binomial noise can be judged – and the note says so
    assert flag.sigma2 is None and any("bara mot slumpen i antalet" in note for note in flag.notes)
    assert flag.target == 0.85 and flag.n == 1204 and flag.numerator == 939
    assert any("Ingen jämförelse med andra enheter" in note for note in flag.notes)
    assert any(note.startswith("Målet: nivån i SKR:s överenskommelse") for note in flag.notes)


def test_possibly_misses_target_is_not_a_claim(catalogue):
    # 80 % of 100 against 85 %: within the 99.8 % limit of a clinic exactly on the target (≈ 74 %)
    flag = one(compute_flags([row("A", "telefontillganglighet", "2025", 80, 100)], catalogue, "A"))
    assert flag.states == ["possibly_misses_target"] and flag.claims == []
    assert "ryms i vanlig variation" in flag.text
    assert 0.72 < flag.target_limit < 0.74


def test_the_target_limit_uses_the_variation_between_periods():
    # Ten clinics, four years, 1 point of variation from year to year; A lies 5 points under its
    # 85 % target at n = 1 000: binomial noise alone would call that a clear miss; with the
    # variation between periods it is within common-cause variation.
    cat = Catalogue(
        indicators=[Indicator(id="x", name="X", source="t", direction="higher", target=0.85, target_regional=True)]
    )
    rng = np.random.default_rng(8)
    rows = []
    for c in range(10):
        for year in ("2022", "2023", "2024", "2025"):
            p = 0.88 + rng.normal(0, 0.01)
            rows.append(row(f"C{c}", "x", year, int(rng.binomial(1000, p)), 1000))
    rows += [row("A", "x", y, round(v * 1000), 1000) for y, v in (("2022", 0.81), ("2023", 0.80), ("2024", 0.81))]
    rows.append(row("A", "x", "2025", 800, 1000))
    flag = one(compute_flags(rows, cat, "A", "2025"))
    assert flag.sigma2 is not None and flag.sigma2 > 0
    assert 0.80 < target_limit(1000, 0.85)  # binomial noise alone: a claim
    assert flag.target_limit == pytest.approx(target_limit(1000, 0.85, flag.sigma2))
    assert (0.80 < flag.target_limit) == ("misses_target" in flag.states)
    rows[-1] = row("A", "x", "2025", 760, 1000)  # 9 points under: beyond any plausible common cause
    assert "misses_target" in one(compute_flags(rows, cat, "A", "2025")).states


def test_edge_of_the_target_limit(catalogue):
    limit = one(compute_flags([row("A", "telefontillganglighet", "2025", 80, 100)], catalogue, "A")).target_limit
    k = math.floor(limit * 100)  # just under the limit: a claim; the limit itself is inside
    assert one(compute_flags([row("A", "telefontillganglighet", "2025", k, 100)], catalogue, "A")).states == [
        "misses_target"
    ]
    assert one(compute_flags([row("A", "telefontillganglighet", "2025", k + 1, 100)], catalogue, "A")).states == [
        "possibly_misses_target"
    ]


def test_meets_target_and_exactly_on_target(catalogue):
    for k in (85, 90):
        flag = one(compute_flags([row("A", "telefontillganglighet", "2025", k, 100)], catalogue, "A"))
        assert flag.states == []
        assert "Når målet." in flag.text


def test_lower_is_better_target():
    cat = Catalogue(
        indicators=[Indicator(id="y", name="Y", source="t", direction="lower", target=0.05, target_regional=True)]
    )
    flag = one(compute_flags([row("A", "y", "2025", 72, 900)], cat, "A"))  # 8 % against at most 5 %
    assert flag.states == ["misses_target"]
    assert "mål högst 5" in plain(flag.text) and "över målet" in flag.text
    assert one(compute_flags([row("A", "y", "2025", 40, 900)], cat, "A")).states == []
    assert one(compute_flags([row("A", "y", "2025", 6, 100)], cat, "A")).states == ["possibly_misses_target"]


def test_mangsokare_is_neutral(catalogue):
    flag = one(compute_flags([row("A", "mangsokare", "2025", 72, 900)], catalogue, "A"))
    assert flag.direction == "neutral" and flag.target is None and flag.states == []


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
    for k, expected in (
        (853, []),  # outside 95 %, inside 99.8 %: context, not a claim
        (838, ["worse_than_peers"]),
        (820, ["worse_than_peers", "clearly_worse_than_peers"]),
    ):
        rows = base + [row("A", "npe_respekt", "2025", k, 1000)]
        flag = one(compute_flags(rows, catalogue, "A"))
        assert flag.states == expected, k
        # identical peers: no spread between clinics, so the exact binomial funnel around the pooled share
        pooled = (6 * 880 + k) / 7000
        assert flag.pooled == pytest.approx(pooled)
        assert flag.peer_low == pytest.approx(stats.binomial_limit(1000, pooled, 0.001))
        assert flag.peer_low95 == pytest.approx(stats.binomial_limit(1000, pooled, 0.025))
        assert flag.peer_count == 6 and not flag.widened
        if not expected:
            assert "lägre än de flesta, men inom gränserna för vanlig variation" in flag.text
    assert "tydligt sämre" in flag.text
    assert "tydligt" not in one(compute_flags(base + [row("A", "npe_respekt", "2025", 838, 1000)], catalogue, "A")).text


def test_better_and_clearly_better_than_peers(catalogue):
    base = peers("npe_respekt", rate=0.80, n=500)
    rows = base + [row("A", "npe_respekt", "2025", 436, 500)]  # 87.2 %
    assert one(compute_flags(rows, catalogue, "A")).states == ["better_than_peers"]
    rows = base + [row("A", "npe_respekt", "2025", 450, 500)]  # 90 %
    assert one(compute_flags(rows, catalogue, "A")).states == [
        "better_than_peers",
        "clearly_better_than_peers",
    ]


def test_lower_direction_peers():
    cat = Catalogue(indicators=[Indicator(id="y", name="Y", source="t", direction="lower")])
    base = [row(f"Peer {i}", "y", "2025", 60, 2000) for i in range(6)]
    assert "better_than_peers" in one(compute_flags(base + [row("A", "y", "2025", 30, 2000)], cat, "A")).states
    states = one(compute_flags(base + [row("A", "y", "2025", 110, 2000)], cat, "A")).states
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
    assert flag.widened and flag.tau2 > 0
    # unwidened, 40 % of 400 would be far outside the binomial funnel around ~50 %
    narrow = stats.funnel(400, flag.pooled)
    assert flag.value < narrow.low998
    assert flag.states == []  # but the clinics vary far more than chance: no claim
    assert "gränserna är vidgade eftersom enheterna skiljer sig mer åt än slumpen förklarar" in flag.text.lower()
    rows[-1] = row("A", "levnadsvanor_dokumenterade", "2025", 20, 400)  # 5 %: outside even the wide limits
    flag = one(compute_flags(rows, catalogue, "A"))
    assert flag.widened and "worse_than_peers" in flag.states
    assert any("τ =" in note for note in flag.notes)


# ---------------------------------------------------------------- own history (control chart)


def history(clinic, values, n=1000, indicator="npe_respekt"):
    return [row(clinic, indicator, str(2018 + i), round(v * n), n) for i, v in enumerate(values)]


def region_series(count=8, years=4, level=0.85, sd_year=0.01, seed=1, indicator="npe_respekt"):
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(count):
        base = level + rng.normal(0, 0.01)
        for i in range(years):
            rows.append(row(f"C{c}", indicator, str(2018 + i), int(rng.binomial(1000, base + rng.normal(0, sd_year))), 1000))
    return rows


def test_worse_and_better_than_previous_over_all_periods(catalogue):
    rows = region_series() + history("A", [0.87, 0.86, 0.87, 0.76])
    flag = one(compute_flags(rows, catalogue, "A", "2021"))
    assert "worse_than_previous" in flag.states and flag.signal == "beyond" and flag.change_position == "lower"
    assert [h[0] for h in flag.history] == ["2018", "2019", "2020", "2021"]
    assert flag.centre == pytest.approx((870 + 860 + 870 + 760) / 4000)
    assert "Jämfört med egna perioder 2018–2021" in flag.text and "sämre" in flag.text
    rows = region_series() + history("A", [0.80, 0.81, 0.80, 0.91])
    assert "better_than_previous" in one(compute_flags(rows, catalogue, "A", "2021")).states


def test_a_change_within_common_cause_variation_is_no_claim(catalogue):
    # 88 % → 84 % at n = 1 000 is "significant" for a two-period test (p ≈ 0.01), but it is what
    # these clinics' years do: no claim.
    rows = region_series(count=20, sd_year=0.02) + history("A", [0.85, 0.86, 0.85, 0.81])
    flag = one(compute_flags(rows, catalogue, "A", "2021"))
    assert flag.states == [] and flag.sigma2 > 0.0002
    assert "Jämfört med egna perioder" in flag.text


def test_history_uses_only_the_clinics_own_earlier_periods(catalogue):
    rows = region_series() + history("A", [0.5, 0.9, 0.89]) + [row("B", "npe_respekt", "2019", 100, 1000)]
    flags = compute_flags(rows, catalogue, "A")
    assert [f.period for f in flags] == ["2018", "2019", "2020"]  # oldest first
    assert flags[1].previous_period == "2018" and [h[0] for h in flags[1].history] == ["2018", "2019"]
    assert [h[0] for h in flags[2].history] == ["2018", "2019", "2020"]


def test_periods_with_too_few_are_left_out_of_the_history(catalogue):
    rows = region_series() + [row("A", "npe_respekt", "2018", 20, 20)] + history("A", [0.86, 0.86, 0.87])[1:]
    flag = one(compute_flags(rows, catalogue, "A", "2020"))
    assert [h[0] for h in flag.history] == ["2019", "2020"]
    rows = region_series() + [row("A", "npe_respekt", "2020", 20, 20), row("A", "npe_respekt", "2021", 500, 1000)]
    flag = one(compute_flags(rows, catalogue, "A", "2021"))
    assert "worse_than_previous" not in flag.states and flag.history == [("2021", 0.5, 1000)]
    assert any("Ingen jämförelse med tidigare perioder" in note for note in flag.notes)


def test_neutral_change_is_a_position_not_a_state(catalogue):
    rows = region_series(indicator="besok_distans", level=0.05, sd_year=0.002)
    rows += history("A", [0.05, 0.05, 0.05, 0.12], indicator="besok_distans")
    flag = one(compute_flags(rows, catalogue, "A", "2021"))
    assert flag.states == [] and flag.change_position == "higher" and flag.stands_out
    assert "ingen värdering" in flag.text.lower()


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
    assert plain(tel.text).startswith("77 % (n = 1 204), mål 85 %, 95 % osäkerhetsintervall 75–80 %.")
    assert tel.group == "fysioterapimottagningar" and tel.peer_count == 8  # never the vårdcentraler
    assert one(flags, "telefontillganglighet", "2024").states == []
    assert one(flags, "npe_tillganglighet", "2025").states == ["worse_than_peers"]
    fine = [f for f in flags if f.period == "2025" and not f.states]
    assert len(fine) >= 15  # most things are fine


def test_demo_fysio_liten(catalogue, demo_rows):
    flags = compute_flags(demo_rows, catalogue, "Fysio Liten (påhittad)", "2025")
    assert flags and all(f.states == ["insufficient_data"] for f in flags)
    assert {f.value for f in flags} & {0.0, 1.0}  # extreme values, and still no claim


def test_demo_other_stories(catalogue, demo_rows):
    def flag(clinic, indicator):
        return one(compute_flags(demo_rows, catalogue, clinic + " (påhittad)", "2025"), indicator)

    assert flag("Fysio Söder", "rehabplaner").states == ["possibly_misses_target"]
    assert flag("Fysio Skogen", "rehabplaner").states == ["misses_target", "worse_than_peers", "worse_than_previous"]
    assert flag("Vårdcentralen Exempel", "npe_kontinuitet").states == ["better_than_peers", "clearly_better_than_peers"]
    hamnen = flag("Fysio Hamnen", "mangsokare")
    assert hamnen.states == [] and hamnen.peer_position == "higher"  # neutral: a question, no verdict
    digital = flag("Rehab Centrum", "besok_digitala")
    assert digital.states == [] and digital.peer_position == "higher" and digital.change_position == "higher"
    assert "worse_than_peers" in flag("Fysio Väster", "levnadsvanor_dokumenterade").states
    assert "worse_than_previous" in flag("Vårdcentralen Åsen", "registreringsgrad").states
    assert "worse_than_peers" in flag("Vårdcentralen Ån", "vantetid_kronisk").states


def test_demo_ordinary_clinics_get_no_claims(catalogue, demo_rows):
    from assistant.data.demo.generate import STORIES

    planted = {(clinic + " (påhittad)", indicator) for clinic, indicator in STORIES}
    analysis = Analysis(demo_rows, catalogue)
    for clinic in {r["clinic"] for r in demo_rows}:
        for f in analysis.flags(clinic, "2025"):
            if (clinic, f.indicator) not in planted:
                assert f.claims == [], (clinic, f.indicator, f.claims)


def test_newest_per_indicator(catalogue, demo_rows):
    flags = compute_flags(demo_rows, catalogue, "Fysio Norr (påhittad)")
    newest = newest_per_indicator(flags)
    assert {f.period for f in newest} == {"2025", "2025-12"}
    assert sorted(f.indicator for f in newest) == sorted(
        i.id for i in catalogue.indicators if i.id != "besok_distans"
    )  # the demo uses digital and telephone visits separately
