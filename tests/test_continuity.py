"""A second dialogue with a clinic opens with what the first handed on ("Från förra dialogen")."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.continuity import flag_moves, wished_sections
from tests.test_chat import chat, events_of, user_flows  # noqa: F401 - fixture


def test_wished_sections_match_areas_titles_and_subareas(mini_flow):
    assert wished_sections(mini_flow, "Vi vill prata om P2 och mönstren") == ["p2", "p4"]
    assert wished_sections(mini_flow, "Patientsäkerheten!") == ["p3"]
    assert wished_sections(mini_flow, "Inget särskilt") == []
    assert wished_sections(mini_flow, None) == []


@dataclass
class F:
    indicator: str
    label: str
    period: str
    states: list


def test_flag_moves_say_how_things_changed():
    before = [
        {"indicator": "tel", "label": "Telefon", "period": "2024", "states": ["misses_target"]},
        {"indicator": "npe", "label": "NPE", "period": "2024", "states": ["worse_than_peers"]},
        {"indicator": "gone", "label": "Borta", "period": "2024", "states": ["misses_target"]},
    ]
    now = [
        F("tel", "Telefon", "2025", []),
        F("npe", "NPE", "2025", ["insufficient_data"]),
        F("new", "Ny", "2025", ["worse_than_previous"]),
    ]
    assert flag_moves(before, now) == [
        "Telefon: når inte målet (2024) → inte längre flaggad (2025).",
        "NPE: sämre än jämförbara enheter (2024) → för få observationer nu (2025).",
        "Borta: når inte målet (2024) – ingen ny data.",
        "Ny: ny flagga – sämre än tidigare perioder (2025).",
    ]


def test_second_dialogue_opens_with_the_first_ones_wishes(user_flows):  # noqa: F811
    first = "\n".join(
        [
            "/åtgärd Se över telefontiderna; ansvarig Anna; 2027-03-31",
            "/avsnitt aterkoppling",
            "Nästa gång vill vi fokusera på mönster och syftet",
            "/klar",
        ]
    )
    code, _, err = chat(user_flows, first + "\n", "--flow", "mini", "--clinic", "Fysio Norr")
    assert code == 0, err
    code, out, _ = chat(user_flows, "/quit\n", "--flow", "mini", "--clinic", "fysio norr")
    assert code == 0
    block = out[out.index("Från förra dialogen"):]
    assert "Önskemål inför detta möte: Nästa gång vill vi fokusera på mönster och syftet" in block
    assert "1. ☐ Se över telefontiderna (ansvarig Anna, 2027-03-31)" in block
    assert "Förvalda fokusområden utifrån önskemålet: P4 Mönster, P2 Syfte" in block  # as the wish names them
    assert out.index("Från förra dialogen") < out.index("Telefontillgänglighet?")  # before the first question
    row, events = events_of()
    assert row["clinic"] == "Fysio Norr"  # the earlier spelling is kept
    assert events[1].kind == "focus_chosen" and events[1].payload["sections"] == ["p4", "p2"]


def test_wished_sections_by_code_and_in_order_of_mention(mini_flow):
    assert wished_sections(mini_flow, "Mönster först, sedan p 2") == ["p4", "p2"]
    from assistant.flows import get_flow

    nara = get_flow("nara-vard").flow
    ids = {s.area: s.id for s in nara.sections if s.area}
    assert wished_sections(nara, "Vi vill ta områdena B och C") == [ids["B"], ids["C"]]
    assert wished_sections(nara, "a b c") == []  # single letters alone are not area codes


def test_a_prepared_dialogue_in_between_does_not_hide_the_wish(user_flows):  # noqa: F811
    first = "/avsnitt aterkoppling\nVi önskar fokus på mönster\n/klar\n"
    assert chat(user_flows, first, "--flow", "mini", "--clinic", "Fysio Norr")[0] == 0
    assert chat(user_flows, "", "--flow", "mini", "--clinic", "Fysio Norr", "--prepare")[0] == 0
    assert chat(user_flows, "/klar\n", "--flow", "mini", "--clinic", "Fysio Norr", "--mode", "self", "--ny")[0] == 0
    code, out, _ = chat(user_flows, "/quit\n", "--flow", "mini", "--clinic", "Fysio Norr", "--ny")
    assert "Önskemål inför detta möte: Vi önskar fokus på mönster" in out
