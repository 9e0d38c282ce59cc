"""Issue 17: follow-ups that understand what was said.

The topic catalogue (flows/topics.toml), Swedish word forms through a real lemmatizer, detection on
every answer, the ranking and repeat rules, and the measured quality on a hand-written corpus.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant import engine as E
from assistant import lexicon
from assistant.engine.topics import SID_PREFIX
from assistant.flows import get_flow
from assistant.session import topic_set
from assistant.topics import default_topics
from tests.conftest import FIXTURES, REPO, T0

CORPUS = FIXTURES / "topics" / "corpus.toml"  # written before the detector (development set)
# round2: written after the catalogue's first version, used once to widen it; heldout: written after
# the catalogue's last change and never used to change it. All three are scored together.
CORPORA = [CORPUS, FIXTURES / "topics" / "round2.toml", FIXTURES / "topics" / "heldout.toml"]

# The five sentences of the issue: each, said at the first question, brings its topic.
FIVE = [
    ("Flera äldre patienter har ramlat i hemmet i vinter.", "fall", "fallolyckor", "p4.prevention.arbete"),
    ("Två av tjänsterna är vakanta sedan i våras.", "bemanning", "vakanser", "p1.framtida_utmaningar"),
    ("Avvikelser rapporteras nästan aldrig hos oss.", "avvikelser", "avvikelser", "p4.patientsakerhet.avvikelser"),
    (
        "Patienterna klagar på att de inte kommer fram på telefon.",
        "telefon",
        "telefontillgängligheten",
        "p5.tillganglighet.telefon",
    ),
    ("Vi har svårt att hinna med levnadsvanesamtalen.", "levnadsvanor", "levnadsvanor", "p4.prevention.forbattringspotential"),
]


class Run:
    """A dialogue driven through the engine, with the shipped topics and a clock that moves."""

    def __init__(self, flow_id: str = "fysioterapi-2023", *, mode: str = "facilitator", focus=None):
        self.flow = get_flow(flow_id).flow
        self.topics = topic_set(self.flow)
        self.now = T0
        options = E.StartOptions(clinic="Testmottagningen", mode=mode, focus=focus or {})
        self.state = E.replay(self.flow, E.start(self.flow, options, self.now))

    def do(self, command) -> list[E.Event]:
        self.now += timedelta(minutes=1)
        made = E.step(self.state, command, self.now)
        self.state = E.advance(self.state, made)
        return made

    def answer(self, text: str) -> None:
        self.do(E.Answer(text))

    def suggestions(self, flags=()) -> list[E.Suggestion]:
        return E.suggestions(self.state, list(flags), self.now, topics=self.topics)

    def topic(self, topic_id: str, flags=()) -> E.Suggestion | None:
        return next((s for s in self.suggestions(flags) if s.topic == topic_id), None)

    @property
    def qid(self) -> str:
        return self.state.current.qid


def flag(indicator: str, *states: str, value: float = 0.62) -> SimpleNamespace:
    return SimpleNamespace(
        indicator=indicator, states=states, value=value, n=1204, target=0.85, period="2025",
        ci_low=0.59, ci_high=0.65, label=indicator, text="", peer_position=None,
    )


# ---------------------------------------------------------------- Swedish word forms


def test_lemmas_the_issue_names():
    assert lexicon.lemma("ramlat") == "ramla"
    assert lexicon.lemma("föll") == "falla"
    assert lexicon.lemma("vakanta") == "vakant"
    assert lexicon.lemma("trillat") == "trilla"


def test_compounds_split_into_their_parts():
    assert [p.lemma for p in lexicon.parts("levnadsvanesamtalen")] == ["levnadsvana", "samtal"]
    assert [p.lemma for p in lexicon.parts("fallolyckor")] == ["fall", "olycka"]
    assert [p.lemma for p in lexicon.parts("avvikelserapporteringen")] == ["avvikelse", "rapportering"]
    assert lexicon.lemma("levnadsvanesamtalen") == "levnadsvanesamtal"  # unknown compound: last part's lemma
    assert lexicon.parts("telefon") == ()  # a plain word is not a compound


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(("sentence", "topic", "noun", "question"), FIVE)
def test_each_sentence_of_the_issue_brings_its_topic_at_the_first_question(sentence, topic, noun, question):
    run = Run()
    assert run.qid == "p1.vilka_arbetar"
    run.answer(sentence)
    s = run.topic(topic)
    assert s is not None, [x.sid for x in run.suggestions()]
    assert s.questions == (question,)
    assert s.reason.startswith(f"Ni nämnde {noun} –")
    assert "”" not in s.reason  # the concept by its noun, never a quoted word form
    assert s.sid == f"{SID_PREFIX}{topic}.p1.vilka_arbetar"


@pytest.mark.parametrize(
    "sentence",
    [
        "I vissa fall jobbar vi över.",
        "I alla fall tycker vi att det har blivit bättre.",
        "I det fallet var det patienten själv som valde.",
        "Från fall till fall avgör fysioterapeuten hur många besök som behövs.",
        "Det faller utanför vårt uppdrag.",
        "Nya remisser ramlar in hela tiden.",
    ],
)
def test_other_senses_of_fall_are_not_falls(sentence):
    run = Run()
    run.answer(sentence)
    found = run.topics.detect(sentence).mentions
    assert "fall" not in found and "avvikelser" not in found
    for s in run.suggestions():
        assert s.topic not in ("fall", "avvikelser", "vardskador")
        assert not any(q.startswith("p4.patientsakerhet.") for q in s.questions)


def test_topics_are_noticed_at_any_question_not_only_their_own():
    run = Run()
    run.do(E.Jump("p3"))
    run.answer("Många äldre, och flera har fallit i hemmet i vinter.")  # at the patient-group question
    s = run.topic("fall")
    assert s is not None and s.questions == ("p4.prevention.arbete",)


def test_a_why_question_goes_once_the_answer_gives_the_cause():
    flags = [flag("telefontillganglighet", "misses_target")]
    run = Run()
    run.answer("Telefonen är vårt största problem.")
    assert "telefon-foljdfraga-orsaker" in [s.sid for s in run.suggestions(flags)]
    run.answer("Telefontiden räcker inte eftersom två i receptionen är sjukskrivna.")
    assert "telefon-foljdfraga-orsaker" not in [s.sid for s in run.suggestions(flags)]


def test_a_cause_about_another_topic_does_not_drop_the_why_question():
    flags = [flag("telefontillganglighet", "misses_target")]
    run = Run()
    run.answer("Vi har svårt att rekrytera eftersom lönerna är låga.")
    assert "telefon-foljdfraga-orsaker" in [s.sid for s in run.suggestions(flags)]


def test_self_mode_gives_the_reason_in_vi_form():
    run = Run(mode="self")
    run.answer("Flera äldre patienter har ramlat i hemmet i vinter.")
    assert run.topic("fall").reason.startswith("Vi nämnde fallolyckor –")
    flags = [flag("telefontillganglighet", "misses_target")]
    why = next(s for s in run.suggestions(flags) if s.sid == "telefon-foljdfraga-orsaker")
    assert why.text.startswith("Vad tror vi ligger bakom att telefontillgängligheten var 62")


# ---------------------------------------------------------------- what is never suggested


def test_never_the_question_that_comes_next_anyway():
    run = Run()
    run.answer("Sju personer.")
    assert run.qid == "p1.arbetsmiljo"
    # next comes p1.medarbetarna_mar and then p1.fortbildning: competence is on its way
    run.answer("Stressen är hög och vi har inte haft tid att gå på kurser, fortbildningen står still.")
    assert run.qid == "p1.medarbetarna_mar"
    assert E.next_question(run.state) == "p1.fortbildning"
    assert all("p1.fortbildning" not in s.questions for s in run.suggestions())
    assert run.topic("kompetens") is None
    assert run.topic("arbetsmiljo") is None  # said at its own question, the rest follows anyway


def test_never_an_answered_question_the_topic_moves_on():
    run = Run()
    run.answer("Patienterna kommer inte fram på telefon.")
    s = run.topic("telefon")
    run.do(E.Offer((s,)))
    run.do(E.Accept(s.sid))
    assert run.qid == "p5.tillganglighet.telefon"
    run.answer("Vi har infört återuppringning.")
    assert run.qid == "p1.arbetsmiljo"  # back where the detour began
    run.answer("Telefonkön stressar receptionen.")
    again = run.topic("telefon")
    assert again is not None and again.sid != s.sid  # a new mention is a new cue
    assert again.questions == ("p5.tillganglighet.oppettider",)


@pytest.mark.parametrize("flow_id", ["fysioterapi-2023", "vardcentral", "nara-vard"])
def test_over_the_corpus_no_suggestion_repeats_or_asks_what_is_done_or_next(flow_id):
    answers = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["answers"]
    run = Run(flow_id)
    for item in answers[:60]:
        if run.state.current is None:
            break
        run.answer(item["text"])
        found = run.suggestions([flag("telefontillganglighet", "misses_target", "worse_than_peers")])
        coming = E.next_question(run.state)
        asked = [q for s in found for q in s.questions]
        assert len(asked) == len(set(asked)), "two suggestions lead to the same question"
        for q in asked:
            assert q not in run.state.answers and q != run.qid
        for s in found:
            if s.topic:
                assert coming not in s.questions


def test_one_suggestion_per_question_with_flags_and_talk_on_the_same_thing():
    flags = [flag("telefontillganglighet", "misses_target", "worse_than_peers", "worse_than_previous")]
    run = Run()
    run.answer("Patienterna klagar på att de inte kommer fram på telefon.")
    found = run.suggestions(flags)
    leading_to_phone = [s for s in found if "p5.tillganglighet.telefon" in s.questions]
    assert len(leading_to_phone) == 1
    asked = [q for s in found for q in s.questions]
    assert len(asked) == len(set(asked))


def test_a_dismissed_suggestion_does_not_come_back_for_the_same_cue():
    run = Run()
    run.answer("Flera äldre patienter har ramlat i hemmet i vinter.")
    s = run.topic("fall")
    run.do(E.Offer((s,)))
    run.do(E.Dismiss(s.sid))
    assert run.topic("fall") is None
    run.answer("Arbetsmiljön är god.")
    assert run.topic("fall") is None  # the same cue, later
    run.answer("Fallolyckorna i hemtjänsten bekymrar oss.")  # a new mention: a new cue
    again = run.topic("fall")
    assert again is not None and again.sid == f"{SID_PREFIX}fall.p1.medarbetarna_mar"


def test_a_topic_moves_to_its_next_question_when_a_better_suggestion_has_the_first():
    # Falls and deviations both lead to patient-safety questions; neither gets lost, none repeats.
    run = Run()
    run.answer("En patient föll i väntrummet och vi skrev ingen avvikelse.")
    found = {s.topic: s for s in run.suggestions() if s.topic}
    assert found["avvikelser"].questions == ("p4.patientsakerhet.avvikelser",)
    assert found["fall"].questions == ("p4.prevention.arbete",)


# ---------------------------------------------------------------- ranking


def test_a_problem_in_the_same_sentence_ranks_a_topic_higher():
    run = Run()
    run.answer("Vi har en app för övningarna. Det är svårt att få tag på tolk.")
    order = [s.topic for s in run.suggestions() if s.topic]
    assert order.index("tolk") < order.index("digitalt")


def test_a_focus_area_and_a_flag_on_the_topic_rank_it_higher():
    said = "Appen krånglar hela tiden. Vi har tolk ibland."
    run = Run()
    run.answer(said)
    order = [s.topic for s in run.suggestions() if s.topic]
    assert order.index("digitalt") < order.index("tolk")  # the problem is with the app
    run = Run(focus={"gemensamt": ("p5",)})
    run.answer(said)
    order = [s.topic for s in run.suggestions() if s.topic]
    assert order.index("tolk") < order.index("digitalt")  # tolksamtal is in the focus area P5
    plain = Run()
    plain.answer("Telefonen och våra öppettider pratar vi mycket om.")
    before = plain.topic("telefon").score
    after = plain.topic("telefon", [flag("telefontillganglighet", "worse_than_peers")]).score
    assert after > before


# ---------------------------------------------------------------- accepting


def test_accepting_a_topic_suggestion_asks_its_question_and_records_the_topic():
    run = Run()
    run.answer("Vi har svårt att hinna med levnadsvanesamtalen.")
    s = run.topic("levnadsvanor")
    made = run.do(E.Offer((s,)))
    assert made[0].payload["topic"] == "levnadsvanor"
    run.do(E.Accept(s.sid))
    assert run.qid == "p4.prevention.forbattringspotential"


def test_an_offered_suggestion_that_now_leads_elsewhere_is_recorded_again_and_accepted_there():
    run = Run()
    run.answer("Vi har svårt att hinna med levnadsvanesamtalen.")
    s = run.topic("levnadsvanor")
    run.do(E.Offer((s,)))
    run.do(E.Jump("prevention"))
    assert run.qid == "p4.prevention.arbete"
    run.do(E.Skip())
    run.answer("Det går långsamt.")  # p4.prevention.forbattringspotential
    moved = run.topic("levnadsvanor")
    assert moved.sid == s.sid and moved.questions == ("p4.konkret.omrade",)
    assert [e.kind for e in run.do(E.Offer((moved,)))] == ["suggestion_offered"]
    run.do(E.Accept(moved.sid))
    assert run.qid == "p4.konkret.omrade"


def test_an_incident_after_the_safety_questions_gets_its_follow_up_question():
    run = Run()
    run.do(E.Jump("patientsakerhet"))
    for text in ("Vi har en ansvarig.", "Inga större.", "Den fungerar.", "Den är skriven."):
        run.answer(text)
    assert run.qid == "p4.patientsakerhet.vardforlopp"
    run.answer("Förra veckan hade vi ett tillbud med fel övningsprogram.")
    s = run.topic("vardskador")
    assert s is not None and s.text == "Rapporterades det som avvikelse, och vad har ni lärt er av det?"
    run.do(E.Offer((s,)))
    run.do(E.Accept(s.sid))
    assert run.state.current.text == s.text and run.qid.startswith("foljd.")
    run.answer("Ja, och vi har ändrat rutinen.")
    assert run.topic("vardskador") is None  # asked once


# ---------------------------------------------------------------- measured quality


def load_corpus(*paths: Path) -> list[dict]:
    return [a for p in paths or CORPORA for a in tomllib.loads(p.read_text(encoding="utf-8"))["answers"]]


def score_corpus(flow_id: str = "vardcentral") -> tuple[Counter, Counter, Counter]:
    topics = topic_set(get_flow(flow_id).flow)
    tp, fp, fn = Counter(), Counter(), Counter()
    for item in load_corpus():
        got = set(topics.detect(item["text"]).mentions)
        want = set(item["raises"])
        tp.update(got & want)
        fp.update(got - want)
        fn.update(want - got)
    return tp, fp, fn


def test_the_corpus_is_large_and_labelled():
    answers = load_corpus()
    assert len(load_corpus(CORPUS)) >= 150 and len(answers) >= 300
    assert len({a["text"] for a in answers}) == len(answers)
    known = set(topic_set(get_flow("vardcentral").flow).topics)
    for item in answers:
        assert set(item) <= {"text", "raises", "not_raises"}
        assert set(item["raises"]) <= known and set(item.get("not_raises", [])) <= known
        assert not set(item["raises"]) & set(item.get("not_raises", []))
    assert sum(1 for a in answers if not a["raises"]) >= 20  # off-topic lines
    assert len({t for a in answers for t in a["raises"]}) >= 30


def test_precision_and_recall_over_the_corpus():
    tp, fp, fn = score_corpus()
    t, f, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision, recall = t / (t + f), t / (t + n)
    assert precision >= 0.9, (precision, fp)
    assert recall >= 0.85, (recall, fn)


def test_the_traps_of_the_corpus_hold():
    topics = topic_set(get_flow("vardcentral").flow)
    sprung = [
        (item["text"], sorted(set(item["not_raises"]) & set(topics.detect(item["text"]).mentions)))
        for item in load_corpus(CORPUS)
        if item.get("not_raises")
    ]
    assert [x for x in sprung if x[1]] == []


def test_detection_is_deterministic():
    flow = get_flow("vardcentral").flow
    texts = [a["text"] for a in load_corpus()]
    first = [topic_set(flow).detect(t) for t in texts]
    fresh = E.compile_topics(default_topics(), flow)
    assert [fresh.detect(t) for t in texts] == first


# ---------------------------------------------------------------- the lemmatizer stays off start-up


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"],
        capture_output=True, text=True, cwd=REPO, check=True,
    ).stdout
    return {line.split(".")[0] for line in out.split()}


def test_start_up_never_imports_the_lemmatizer():
    mods = modules_after(
        "import assistant.cli, assistant.tui.app, assistant.engine, assistant.chat\n"
        "from assistant.flows import all_flows\n"
        "from assistant.session import topic_set\n"
        "for lf in all_flows():\n"
        "    topic_set(lf.flow)\n"
    )
    assert "simplemma" not in mods


def test_the_lemmatizer_loads_on_first_use():
    mods = modules_after(
        "from assistant.flows import get_flow\nfrom assistant.session import topic_set\n"
        "t = topic_set(get_flow('fysioterapi-2023').flow)\nassert 'fall' in t.detect('Hon ramlade.').mentions\n"
    )
    assert "simplemma" in mods


def test_the_app_start_screen_does_not_load_the_word_list(tmp_path):
    from assistant.cli import main  # noqa: F401  (the entry point imports cleanly)

    code = (
        "import asyncio, sys\n"
        "from assistant.tui.app import DialogstodApp\n"
        f"app = DialogstodApp(db_path={str(tmp_path / 'x.db')!r})\n"
        "async def go():\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        await pilot.pause(0.5)\n"
        "asyncio.run(go())\n"
        "print('simplemma' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.stdout.strip().endswith("False"), out.stderr[-2000:]


# ---------------------------------------------------------------- the catalogue is data, checked


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def check(*paths) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "flows", "check", *map(str, paths)],
        capture_output=True, text=True, cwd=REPO,
    )
    return out.returncode, out.stdout + out.stderr


TOPIC = """
[[topics]]
id = "fall"
name = "Fall"
noun = "fallolyckor"
lemmas = ["ramla", "fall-"]
questions = {questions}
reason = "{reason}"
self_reason = "Vi nämnde fallolyckor."
"""


def test_shipped_catalogue_checks_clean():
    code, out = check(REPO / "flows" / "topics.toml", *sorted((REPO / "flows").glob("*.toml")))
    assert code == 0, out


def test_a_topic_question_missing_in_a_flow_that_uses_it_is_located(tmp_path):
    path = write(tmp_path / "topics.toml", TOPIC.format(
        questions='["p4.prevention.arbete", "p4.prevention.arbetet"]', reason="Ni nämnde fallolyckor."))
    code, out = check(path)
    assert code == 2
    assert f"{path}: topics[0].questions[1]: flödet 'fysioterapi-2023' har ingen fråga 'p4.prevention.arbetet'" in out
    assert "flödet 'vardcentral' har ingen fråga 'p4.prevention.arbetet'" in out
    assert "nara-vard" not in out  # it has none of the questions: it does not use the topic


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (TOPIC.format(questions='["p4.prevention.arbete"]', reason="Ni nämnde att folk ramlat."),
         "reason ska nämna begreppet med sitt substantiv ('fallolyckor')"),
        (TOPIC.format(questions='["p4.prevention.arbete"]', reason="Ni nämnde fallolyckor.").replace(
            '"fall-"]', '"Fall"]'), "'Fall': skriv med gemener"),
        (TOPIC.format(questions='["p4.prevention.arbete"]', reason="Ni nämnde fallolyckor.").replace(
            '"fall-"]', '"i vissa fall"]'), "fraser hör hemma i phrases"),
        (TOPIC.format(questions='["p4.prevention.arbete"]', reason="Ni nämnde fallolyckor.")
         + '[topics.flows]\nokand = ["x"]\n', "okänt flöde 'okand'"),
        (TOPIC.format(questions='["p4.prevention.arbete"]', reason="Ni nämnde fallolyckor.") * 2, "ämnets id 'fall' finns redan"),
    ],
)
def test_bad_catalogues_get_one_clear_line_each(tmp_path, body, message):
    code, out = check(write(tmp_path / "topics.toml", body))
    assert code == 2 and message in out and "Traceback" not in out


def test_a_region_adds_and_replaces_topics(isolated_dirs):
    write(isolated_dirs / "flows" / "topics.toml", """
[[topics]]
id = "fall"
name = "Fall"
noun = "fallolyckor"
lemmas = ["halka"]
questions = ["p4.patientsakerhet.utmaningar"]
reason = "Ni nämnde fallolyckor – hos oss i regionen först patientsäkerheten."
self_reason = "Vi nämnde fallolyckor."

[[topics]]
id = "snoskottning"
name = "Snöskottning"
noun = "snöröjningen"
lemmas = ["snöröjning", "snö"]
questions = ["p4.organisation.lokaler"]
reason = "Ni nämnde snöröjningen – hur kommer patienterna fram?"
self_reason = "Vi nämnde snöröjningen – hur kommer patienterna fram?"
""")
    run = Run()
    run.answer("Patienter halkar utanför entrén, snön ligger kvar.")
    assert run.topic("fall").questions == ("p4.patientsakerhet.utmaningar",)
    assert run.topic("snoskottning").reason.startswith("Ni nämnde snöröjningen")
    assert "telefon" in run.topics.topics  # shipped topics stay


def test_a_broken_regional_catalogue_is_a_located_message_not_a_crash(isolated_dirs):
    write(isolated_dirs / "flows" / "topics.toml", "[[topics]]\nid = 'x'\n")
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "flows", "list"],
                         capture_output=True, text=True, cwd=REPO)
    assert "topics.toml: topics[0]" in out.stderr and "Traceback" not in out.stderr


def test_rules_asking_why_name_a_known_topic(tmp_path):
    text = (REPO / "flows" / "fysioterapi-2023.toml").read_text(encoding="utf-8")
    bad = write(tmp_path / "fysioterapi-2023.toml", text.replace('topic = "telefon"', 'topic = "telefonen"'))
    code, out = check(bad)
    assert code == 2 and "topic: okänt ämne 'telefonen'" in out
    bad.write_text(text.replace('topic = "telefon"\n', ""), encoding="utf-8")
    code, out = check(bad)
    assert code == 2 and "asks_cause: en fråga om orsaker behöver ämnet den gäller (topic)" in out
