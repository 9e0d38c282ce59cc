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
    assert "▼ Telefontillgänglighet 2025: 78 % (n = 1 204), mål 85 %" in overview.replace("\u00a0", " ")
    listing = out[out.index("Förslag:"):]
    first = listing.splitlines()[1]
    assert first.startswith("  1. Telefontillgängligheten") and "→ Telefontillgänglighet?" in first
    after = [line for line in listing[listing.index("Skriv /ta N"):].splitlines()[1:] if not line.startswith("> ")]
    assert after[0].startswith("── P5 Mönster")  # the accepted suggestion is the next prompt
    assert after[2] == "[Tillgänglighet]" and after[3] == "Telefontillgänglighet?"

    from storage import Store

    with Store.open() as store:
        row = store.list_dialogues()[0]
        events = store.load_events(row["id"])
    kinds = [e.kind for e in events]
    assert "flags_shown" in kinds and "suggestion_offered" in kinds and "suggestion_accepted" in kinds
    answered = [e for e in events if e.kind == "answered"]
    assert answered[0].qid == "p5.tillganglighet.telefon"
    assert answered[0].text == "Vi har infört återuppringning"


def test_small_clinic_is_not_flagged_on_noise(isolated_dirs):
    run("data", "demo")
    code, out, _ = run("data", "flags", "--clinic", "Fysio Liten (påhittad)", "--json")
    small = [r for r in json.loads(out) if r["n"] is not None and r["n"] < 30]
    assert small and all(r["states"] == ["insufficient_data"] for r in small)


def test_neutral_indicator_far_from_its_peers_is_worth_a_question(isolated_dirs):
    run("data", "demo")
    code, out, _ = chat(None, "/förslag\n/quit\n", "--flow", "fysioterapi-2023", "--clinic", "Rehab Centrum (påhittad)")
    assert "◆ Distansbesök 2025" in out  # neutral: no worse/better, but far from its peers
    listing = out[out.index("Förslag:"):]
    assert "Andelen distansbesök (2025) var 18" in listing


def test_improvement_is_marked_up_not_down(isolated_dirs):
    run("data", "demo")
    code, out, _ = chat(None, "/quit\n", "--flow", "vardcentral", "--clinic", "Vårdcentralen Exempel (påhittad)")
    assert "▲ NPE kontinuitet 2025" in out
