"""Issue 4 end to end: import a Swedish export, read the flags, and follow a suggestion in a dialogue."""

from __future__ import annotations

import json

from tests.test_chat import chat
from tests.test_cli_archive import run

CLINIC = "Fysio Norr (påhittad)"


def test_flagged_clinic_gets_matching_suggestions_and_accepting_one_asks_it(isolated_dirs):
    code, out, err = run("data", "demo")
    assert code == 0, err
    code, out, _ = run("data", "flags", "--clinic", CLINIC, "--period", "2025", "--json")
    rows = {r["indicator"]: r for r in json.loads(out)}
    assert {"misses_target", "worse_than_peers", "clearly_worse_than_peers", "worse_than_previous"} <= set(
        rows["telefontillganglighet"]["states"]
    )
    assert set(rows["telefontillganglighet"]) >= {"indicator", "period", "value", "n", "ci_low", "ci_high", "states"}

    code, out, _ = chat(None, "/förslag\n/ta 1\nVi har infört återuppringning\n/quit\n",
                        "--flow", "fysioterapi-2023", "--clinic", CLINIC)
    assert code == 0
    overview = out[out.index("Data för"):out.index("── P1")]
    assert "▼ Telefontillgänglighet 2025: 77 % (n = 1 204), mål 85 %" in overview.replace("\u00a0", " ")
    assert "2022–2025  " in overview and "bland fysioterapimottagningar: " in overview  # the text pictures
    listing = out[out.index("Förslag:"):]
    first, second = listing.splitlines()[1:3]
    # data first: the value stands out, so the first question is whether the figures are right
    assert first.startswith("  1. Värdet skiljer sig mer än vanlig variation förklarar")
    assert "Telefontillgänglighet 2025: 77 % (n = 1 204) – stämmer siffrorna med er bild?" in first.replace("\u00a0", " ")
    assert "Telefontillgängligheten" in listing and "→ Telefontillgänglighet?" in listing
    after = [line for line in listing[listing.index("Skriv /ta N"):].splitlines()[1:] if not line.startswith("> ")]
    assert after[0].startswith("── P5 Mönster")  # the accepted suggestion is the next prompt
    assert "stämmer siffrorna" in after[2]

    from assistant.database import open_store

    with open_store() as store:
        row = store.list_dialogues()[0]
        events = store.load_events(row["id"])
    kinds = [e.kind for e in events]
    assert "flags_shown" in kinds and "suggestion_offered" in kinds and "suggestion_accepted" in kinds
    answered = [e for e in events if e.kind == "answered"]
    assert answered[0].qid == "foljd.data-telefon"
    assert answered[0].text == "Vi har infört återuppringning"
    shown = next(e for e in events if e.kind == "flags_shown").payload["flags"]
    tel = next(f for f in shown if f["indicator"] == "telefontillganglighet")
    assert tel["chart"]["funnel"]["points"] and len(tel["chart"]["history"]["points"]) == 4


def test_small_clinic_is_not_flagged_on_noise(isolated_dirs):
    run("data", "demo")
    code, out, _ = run("data", "flags", "--clinic", "Fysio Liten (påhittad)", "--json")
    small = [r for r in json.loads(out) if r["n"] is not None and r["n"] < 30]
    assert small and all(r["states"] == ["insufficient_data"] for r in small)


def test_neutral_indicator_far_from_its_peers_is_worth_a_question(isolated_dirs):
    run("data", "demo")
    code, out, _ = chat(None, "/förslag\n/quit\n", "--flow", "fysioterapi-2023", "--clinic", "Rehab Centrum (påhittad)")
    assert "◆ Digitala besök 2025" in out  # neutral: no worse/better, but far from its peers
    listing = out[out.index("Förslag:"):]
    assert "Andelen digitala besök (2025) var 14" in listing


def test_improvement_is_marked_up_not_down(isolated_dirs):
    run("data", "demo")
    code, out, _ = chat(None, "/quit\n", "--flow", "vardcentral", "--clinic", "Vårdcentralen Exempel (påhittad)")
    assert "▲ NPE kontinuitet 2025" in out
