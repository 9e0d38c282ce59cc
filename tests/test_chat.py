"""The line mode: commands in-process, and `dialogstod chat` as a real subprocess with piped input."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys

import pytest

from assistant.chat import parse_action
from tests.conftest import FIXTURES, REPO, run_cli


@pytest.fixture
def user_flows(isolated_dirs):
    folder = isolated_dirs / "flows"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "flows" / "mini.toml", folder / "mini.toml")
    return folder


def chat(user_flows, script: str, *args: str) -> tuple[int, str, str]:
    return run_cli("chat", *args, stdin=script)


def events_of(dialogue_prefix: str | None = None):
    from assistant.database import open_store

    with open_store() as store:
        rows = store.list_dialogues()
        row = rows[0] if dialogue_prefix is None else store.get_dialogue(dialogue_prefix)
        return row, store.load_events(row["id"])


def test_parse_action():
    assert parse_action("Se över telefontiderna; ansvarig Anna; 2027-03-31") == (
        "Se över telefontiderna",
        "Anna",
        "2027-03-31",
    )
    assert parse_action("Ring tillbaka; Bo") == ("Ring tillbaka", "Bo", None)
    assert parse_action("Bara text") == ("Bara text", None, None)


def test_a_dialogue_with_every_command(user_flows):
    script = "\n".join(
        [
            "Tre fysioterapeuter",
            "/hoppa",
            "/tillbaka",
            "Bra arbetsmiljö, men fallolyckor i trappan",
            "/förslag",
            "/ta 1",
            "Vi skriver avvikelser i systemet",
            "/parkera",
            "/anteckning Chefen är ny",
            "/åtgärd Se över rutinen; ansvarig Anna; 2027-03-31",
            "/avsnitt P4",
            "/avsnitt-klart",
            "/parkerade",
            "Vision: bäst i norr",
            "/status",
            "/okänt",
            "/hjälp",
            "/klar",
        ]
    )
    code, out, err = chat(user_flows, script + "\n", "--flow", "mini", "--clinic", "Fysio Norr", "--participant", "Anna:presenterar data")
    assert code == 0, err
    assert "── P1 Personal" in out
    assert "Ni nämnde fallolyckor – hur fungerar avvikelserapporteringen?" in out
    assert "Parkerad. (1 på parkeringsplatsen)" in out
    assert "Åtgärd a1 sparad (ansvarig Anna, 2027-03-31)." in out
    assert "! Okänt kommando /okänt." in out
    assert "/tillbaka" in out and "(/back)" in out
    assert "Dialogen är avslutad." in out
    summary = out[out.index("Sammanfattning av dialogen"):]
    assert "a1. Se över rutinen (ansvarig Anna, 2027-03-31) · öppen" in summary
    assert "Parkeringsplatsen:\n    (tom)" in summary  # the parked question was answered later
    assert "✓ P1 Personal" in summary
    row, events = events_of()
    assert row["status"] == "finished"
    kinds = [e.kind for e in events]
    for kind in ("skipped", "went_back", "suggestion_offered", "suggestion_accepted", "parked", "noted",
                 "action_added", "jumped", "section_ended", "finished"):
        assert kind in kinds, kind
    answers = {e.qid: e.text for e in events if e.kind == "answered"}
    assert answers["p1.miljo"] == "Bra arbetsmiljö, men fallolyckor i trappan"
    assert answers["p3.avvikelser"] == "Vi skriver avvikelser i systemet"
    assert answers["p2.vision"] == "Vision: bäst i norr"


def test_continuation_lines_and_literal_slash(user_flows):
    code, out, _ = chat(user_flows, "Första raden \\\nandra raden\n//inte ett kommando\n", "--flow", "mini", "--clinic", "X")
    assert code == 0
    _, events = events_of()
    answers = [e.text for e in events if e.kind == "answered"]
    assert answers == ["Första raden\nandra raden", "/inte ett kommando"]


def test_english_aliases(user_flows):
    code, out, _ = chat(user_flows, "/skip\n/park\n/note hej\n/section 3\n/back\n/quit\n", "--flow", "mini", "--clinic", "X")
    assert code == 0
    _, events = events_of()
    assert [e.kind for e in events if e.kind != "prompted"] == ["started", "skipped", "parked", "noted", "jumped", "went_back"]


def test_untrusted_text_is_shown_literally(user_flows):
    nasty = "[b]fet[/b] [@click=app.quit]klick[/] \x1b[31mröd\x1b]0;titel\x07 <script>x</script> {{ 7*7 }}"
    code, out, _ = chat(user_flows, nasty + "\n/tillbaka\n/quit\n", "--flow", "mini", "--clinic", "[b]Klinik[/b]\x1b[2J")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "␛[31mröd␛]0;titel␇" in out
    assert "Dialogstöd · [b]Klinik[/b]␛[2J" in out
    assert "Tidigare svar: [b]fet[/b] [@click=app.quit]klick[/]" in out
    _, events = events_of()
    assert events[2].text == nasty  # stored exactly as typed


def test_identity_number_is_masked_and_the_user_told(user_flows):
    code, out, _ = chat(user_flows, "Patient 811218-9876 ringde\n/quit\n", "--flow", "mini", "--clinic", "X")
    assert "personnummer" in out
    _, events = events_of()
    assert "811218-9876" not in "".join(e.text or "" for e in events)


def test_missing_arguments_and_unknown_dialogue_are_clear_errors(user_flows):
    code, out, err = chat(user_flows, "", "--clinic", "X")
    assert code == 2 and "Ange --flow och --clinic" in err
    code, out, err = chat(user_flows, "", "--resume", "ffffffff")
    assert code == 2 and "Det finns ingen dialog" in err
    code, out, err = chat(user_flows, "", "--flow", "finns-inte", "--clinic", "X")
    assert code == 2 and "Det finns inget flöde 'finns-inte'" in err


def test_prepare_then_open_on_meeting_day(user_flows):
    code, out, _ = chat(user_flows, "", "--flow", "mini", "--clinic", "Fysio Norr", "--prepare", "--focus", "mottagningen=P4,P2")
    assert code == 0 and "förberedd" in out
    row, _ = events_of()
    assert row["status"] == "prepared"
    code, out, _ = chat(user_flows, "Bra telefontider\n/quit\n", "--resume", row["id"][:8])
    assert "Fokusområden (Mottagningen): P4 Mönster, P2 Syfte" in out
    row, events = events_of()
    assert row["status"] == "in_progress"
    assert [e.qid for e in events if e.kind == "answered"] == ["p4.telefon"]


# ---------------------------------------------------------------- as a real process


def _default_signal_handling() -> None:
    """In the child, before exec: SIGINT, SIGHUP and SIGTERM at their defaults, whatever the test
    runner inherited (a shell starts background jobs with SIGINT ignored, and Python then installs
    no KeyboardInterrupt handler)."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def spawn(env, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "chat", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        env=env,
        bufsize=1,
        preexec_fn=_default_signal_handling,
    )


def read_until(proc: subprocess.Popen, needle: str) -> str:
    seen = []
    while True:
        line = proc.stdout.readline()
        if line == "":
            raise AssertionError(f"process ended before {needle!r}; output:\n{''.join(seen)}")
        seen.append(line)
        if needle in line:
            return "".join(seen)


@pytest.fixture
def proc_env(user_flows, isolated_dirs):
    env = dict(os.environ)
    env["DIALOGSTOD_DATA_DIR"] = str(isolated_dirs)
    env["DIALOGSTOD_DB"] = str(isolated_dirs / "dialogstod.db")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def test_piped_input_as_a_subprocess(proc_env):
    script = "Tre fysioterapeuter\nBra\n/quit\n"
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "chat", "--flow", "mini", "--clinic", "Fysio Norr"],
        input=script, capture_output=True, text=True, encoding="utf-8", cwd=REPO, env=proc_env, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Dialogen är sparad. Fortsätt med: dialogstod chat --resume" in done.stdout
    assert "> Tre fysioterapeuter" in done.stdout  # piped answers are echoed for a readable log


def test_end_of_input_leaves_the_dialogue_resumable(proc_env):
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "chat", "--flow", "mini", "--clinic", "Fysio Norr"],
        input="Tre\n", capture_output=True, text=True, encoding="utf-8", cwd=REPO, env=proc_env, timeout=60,
    )
    assert done.returncode == 0
    assert "Slut på indata. Dialogen är sparad. Fortsätt med:" in done.stdout


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT", "SIGHUP", "SIGTERM"])
def test_killed_mid_dialogue_then_resumed(proc_env, how):
    proc = spawn(proc_env, "--flow", "mini", "--clinic", "Fysio Norr")
    try:
        read_until(proc, "Vilka arbetar här?")
        proc.stdin.write("Tre fysioterapeuter\n")
        proc.stdin.flush()
        read_until(proc, "Hur är arbetsmiljön?")  # acknowledged: the next prompt is shown
        proc.stdin.write("God, men trångt\n")
        proc.stdin.flush()
        read_until(proc, "Hur ser verksamhetens egen verksamhetsidé och vision ut?")
        proc.send_signal(getattr(signal, how))
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if not stream.closed:
                stream.close()
    if how == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
    else:  # Ctrl-C, a closed terminal and a polite kill all end the loop the same way
        assert proc.returncode == 130
        assert "Avbrutet. Dialogen är sparad. Fortsätt med: dialogstod chat --resume " in rest

    from assistant.database import open_store

    with open_store() as store:
        row = store.list_dialogues()[0]
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        answers = {e.qid: e.text for e in store.load_events(row["id"]) if e.kind == "answered"}
    assert answers == {"p1.vilka": "Tre fysioterapeuter", "p1.miljo": "God, men trångt"}

    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "chat", "--resume", row["id"][:8]],
        input="/quit\n", capture_output=True, text=True, encoding="utf-8", cwd=REPO, env=proc_env, timeout=60,
    )
    assert done.returncode == 0
    assert "Fortsätter där dialogen slutade (2 svar hittills)." in done.stdout
    assert "Hur ser verksamhetens egen verksamhetsidé och vision ut?" in done.stdout


def test_action_with_a_date_it_cannot_read_is_refused():
    import pytest as _pytest

    from assistant.engine import EngineError

    with _pytest.raises(EngineError, match="Förstod inte '31 mars'"):
        parse_action("Ring Region; Kim; 31 mars")


def test_finished_dialogue_is_reopened_only_when_asked(user_flows):
    chat(user_flows, "Tre\n/klar\n", "--flow", "mini", "--clinic", "X")
    row, _ = events_of()
    code, _, err = chat(user_flows, "", "--resume", row["id"][:8])
    assert code == 2 and "är avslutad" in err and "--reopen" in err
    code, out, _ = chat(user_flows, "Bra\n/quit\n", "--resume", row["id"][:8], "--reopen")
    assert code == 0
    row, events = events_of()
    assert row["status"] == "in_progress" and "reopened" in [e.kind for e in events]


def test_finish_asks_for_confirmation_when_typed(user_flows):
    from assistant.chat import LineChat
    from assistant.database import open_store
    from assistant.engine import StartOptions
    from assistant.session import Dialogue

    with open_store() as store:
        d = Dialogue.start(store, "mini", StartOptions(clinic="X"))
        out = io.StringIO()
        LineChat(d, inp=io.StringIO("/klar\nn\n/klar\nj\n"), out=out, interactive=True).run(fresh=True)
        text = out.getvalue()
        assert text.count("Avsluta dialogen?") == 2 and "Dialogen fortsätter." in text
        assert d.state.finished


def test_opening_a_prepared_dialogue_shows_what_the_last_one_handed_on(user_flows):
    chat(user_flows, "/avsnitt aterkoppling\nFokus på mönster nästa gång\n/klar\n", "--flow", "mini", "--clinic", "X")
    chat(user_flows, "", "--flow", "mini", "--clinic", "X", "--prepare")
    from assistant.database import open_store

    with open_store() as store:
        prepared = [r for r in store.list_dialogues() if r["status"] == "prepared"][0]
    code, out, _ = chat(user_flows, "/quit\n", "--resume", prepared["id"][:8])
    assert "Från förra dialogen" in out and "Fokus på mönster nästa gång" in out


def test_focus_areas_respect_the_flows_two_to_three(user_flows):
    code, _, err = chat(user_flows, "", "--flow", "vardcentral", "--clinic", "X", "--prepare", "--focus", "vårdcentralen=P1")
    assert code == 2 and "Välj 2–3 fokusområden (1 valda)" in err
    code, _, err = chat(user_flows, "", "--flow", "vardcentral", "--clinic", "X", "--prepare", "--focus", "vårdcentralen=P1,P2,P3,P4")
    assert code == 2 and "(4 valda)" in err
    code, out, _ = chat(user_flows, "", "--flow", "vardcentral", "--clinic", "X", "--prepare", "--focus", "vårdcentralen=P1,P5")
    assert code == 0


# ---------------------------------------------------------------- /status, /parkerade and the parked hint


def replies(out: str, command: str) -> list[str]:
    """What the line mode printed in answer to each ``command`` (up to the next echoed input)."""
    found = []
    at = out.find("> " + command + "\n")
    while at >= 0:
        start = at + len(command) + 3
        end = out.find("\n> ", start)
        found.append(out[start : end + 1 if end >= 0 else len(out)])
        at = out.find("> " + command + "\n", start)
    return found


def test_status_shows_each_area_the_time_and_the_counts(user_flows):
    script = [
        "/avsnitt P1",
        "Tre fysioterapeuter",  # p1.vilka answered
        "/hoppa",  # p1.miljo skipped
        "/avsnitt P2",
        "/parkera",  # p2.vision parked
        "/avsnitt P3",
        "Fall i trappan",  # p3.utmaningar answered
        "/avsnitt P4",
        "/hoppa",  # p4.telefon skipped …
        "/tillbaka",
        "Bra",  # … and answered after all: it counts once, as answered
        "/anteckning Chefen är ny",
        "/åtgärd Se över rutinen; ansvarig Anna; 2027-03-31",
        "/status",
        "/quit",
    ]
    code, out, err = chat(
        user_flows, "\n".join(script) + "\n", "--flow", "mini", "--clinic", "X", "--focus", "mottagningen=P3,P4"
    )
    assert code == 0, err
    # The meeting started moments ago, so every clock reads 0 minutes.
    assert replies(out, "/status") == [
        "Mötestid 0 av 60 min.\n"
        "  ✓ P1 Personal: 1 besvarade, 1 överhoppade, 0 parkerade, 0 kvar · 0/10 min\n"
        "  ○ P2 Syfte: 0 besvarade, 0 överhoppade, 1 parkerade, 0 kvar · 0/10 min\n"
        # P3's own questions: its Konkret exempel exercise is counted apart (not begun: not shown)
        "  ● P3 Processer (fokus): 1 besvarade, 0 överhoppade, 0 parkerade, 1 kvar · 0/20 min\n"
        "  ● P4 Mönster (fokus): 1 besvarade, 0 överhoppade, 0 parkerade, 2 kvar · 0/10 min\n"
        "  Ej berört ännu: P2 Syfte\n"
        "Parkerade frågor: 1 · Anteckningar: 1 · Åtgärder: 1\n"
    ]


def test_parked_lists_the_questions_and_takes_up_the_one_asked_for(user_flows):
    script = ["/parkerade", "/parkera", "/parkera", "/parkerade", "/parkerade 2", "Trångt", "/parkerade", "/quit"]
    code, out, err = chat(user_flows, "\n".join(script) + "\n", "--flow", "mini", "--clinic", "X")
    assert code == 0, err
    empty, two, one = replies(out, "/parkerade")
    assert empty == "Parkeringsplatsen är tom.\n"
    assert two.startswith(
        "Parkerade frågor:\n"
        "  1. Vilka arbetar här?\n"
        "  2. Hur är arbetsmiljön?\n"
        "Tar upp nummer 1 (skriv /parkerade N för en annan).\n"
    )
    assert two.endswith("(parkerad fråga)\nVilka arbetar här?\n")
    assert replies(out, "/parkerade 2")[0].endswith(
        "(parkerad fråga)\nHur är arbetsmiljön?\n  Hjälp: Tänk på både fysisk och psykosocial miljö.\n"
    )
    _, events = events_of()
    assert [(e.qid, e.text) for e in events if e.kind == "answered"] == [("p1.miljo", "Trångt")]
    # One left: taken up at once, without a list.
    assert "Parkerade frågor:" not in one and one.endswith("(parkerad fråga)\nVilka arbetar här?\n")


def test_parked_with_a_number_that_does_not_fit_says_so(user_flows):
    script = ["/parkera", "/parkera", "/parkerade", "/parkerade 1", "/parkerade 9", "/parkerade x", "/parkerade", "/quit"]
    code, out, err = chat(user_flows, "\n".join(script) + "\n", "--flow", "mini", "--clinic", "X")
    assert code == 0, err
    assert replies(out, "/parkerade 1") == ["! Fråga 1 är den som visas nu.\n"]
    assert replies(out, "/parkerade 9") == ["! Det finns ingen parkerad fråga nummer 9 (1–2).\n"]
    assert replies(out, "/parkerade x") == ["! Skriv /parkerade med numret på en parkerad fråga (1–2), inte ”x”.\n"]
    # Without a number, the one not on screen is taken up.
    again = replies(out, "/parkerade")[1]
    assert "  1. Vilka arbetar här? (visas nu)\n" in again and "Tar upp nummer 2 " in again
    assert again.endswith("(parkerad fråga)\nHur är arbetsmiljön?\n  Hjälp: Tänk på både fysisk och psykosocial miljö.\n")
    _, events = events_of()
    assert [e.qid for e in events if e.kind == "prompted"][-2:] == ["p1.vilka", "p1.miljo"]  # nothing taken up by mistake


@pytest.mark.parametrize(("parked", "hint"), [(1, "1 fråga är parkerad"), (2, "2 frågor är parkerade")])
def test_nothing_left_to_answer_points_to_the_parked_questions(user_flows, parked, hint):
    # The mini flow asks 13 questions; park some, skip the rest.
    script = ["/parkera"] * parked + ["/hoppa"] * (13 - parked) + ["/quit"]
    code, out, err = chat(user_flows, "\n".join(script) + "\n", "--flow", "mini", "--clinic", "X")
    assert code == 0, err
    assert replies(out, "/hoppa")[-1] == (
        f"Alla frågor är besvarade, överhoppade eller parkerade. {hint} (/parkerade). "
        "Gå till ett avsnitt med /avsnitt N, eller avsluta dialogen med /klar.\n"
    )
