"""The shipped flows are faithful to the method documents.

The expected questions are the documents' own words, kept in ``tests/method_questions.py`` with
their sources, so these tests need nothing outside the repository. One test checks those lists
against the documents themselves where they are available.

A flow question matches an expected question when the expected text is a substring of the flow
question's text (so a question may add a template naming the chosen area), and the expected
questions must appear in the document's order. Dropping, rewording or reordering a question fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
from jinja2 import meta

from assistant import render
from assistant.conditions import ContainsAny, Flag, walk
from assistant.flows import Flow, load_flow
from assistant.indicators import load_catalogue
from tests.method_questions import (
    DOC_000_BANK,
    DOC_000_QUESTIONS,
    DOC_001_AREAS,
    DOC_001_FOCUS,
    DOC_002_AREAS,
    DOC_002_PARTS,
    DOC_002_QUESTIONS,
    P4_SUBAREAS,
    P5_SUBAREAS,
    SOURCES,
)

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
CATALOGUE = FLOWS / "indicators.toml"



def norm(text: str) -> str:
    return " ".join(text.split())


def load(name: str) -> Flow:
    catalogue = load_catalogue(CATALOGUE) if CATALOGUE.exists() else None
    return load_flow(FLOWS / f"{name}.toml", catalogue).flow


@pytest.fixture(scope="module")
def fysio() -> Flow:
    return load("fysioterapi-2023")


@pytest.fixture(scope="module")
def vardcentral() -> Flow:
    return load("vardcentral")


@pytest.fixture(scope="module")
def nara_vard() -> Flow:
    return load("nara-vard")


# ---------------------------------------------------------------- helpers


def find_in_order(expected: list[str], texts: list[str]) -> list[int]:
    """Index into ``texts`` of each expected question, in order; AssertionError names the first miss.

    Each expected text must be a substring of a distinct text that comes after the previous match.
    """
    texts = [norm(t) for t in texts]
    found: list[int] = []
    start = 0
    for q in expected:
        want = norm(q)
        for i in range(start, len(texts)):
            if want in texts[i]:
                found.append(i)
                start = i + 1
                break
        else:
            earlier = [i for i, t in enumerate(texts) if want in t]
            where = f"it appears too early, at position {earlier[0]}" if earlier else "it is missing"
            raise AssertionError(f"question {q!r} not found in order after position {start - 1}: {where}")
    return found


def texts_of(questions) -> list[str]:
    return [q.text for q in questions]


def section(flow: Flow, title: str):
    matches = [s for s in flow.sections if s.title == title]
    assert len(matches) == 1, f"expected exactly one section titled {title!r}"
    return matches[0]


# ---------------------------------------------------------------- the helper itself


def test_order_check_catches_dropped_reworded_and_reordered_questions():
    bank = ["Vilka arbetar här?", "Hur är arbetsmiljön?", "Hur mår medarbetarna?"]
    assert find_in_order(bank, [*bank, "Extra?"]) == [0, 1, 2]
    with pytest.raises(AssertionError, match="missing"):
        find_in_order(bank, [bank[0], bank[2]])
    with pytest.raises(AssertionError, match="missing"):
        find_in_order(bank, [bank[0], "Hur är arbetsmiljön på mottagningen?", bank[2]])
    with pytest.raises(AssertionError, match="too early"):
        find_in_order(bank, [bank[1], bank[0], bank[2]])


# ---------------------------------------------------------------- the lists are the documents' words


def method_dir() -> Path | None:
    """Where the method documents are: DIALOGSTOD_METHOD_DIR, else ``shared/method`` beside the
    checkout (``/work/shared/method`` for a worktree in ``/work``)."""
    for candidate in (os.environ.get("DIALOGSTOD_METHOD_DIR"), ROOT.parent / "shared" / "method"):
        if candidate and (Path(candidate) / SOURCES["000"][0]).is_file():
            return Path(candidate)
    return None


def test_the_question_lists_are_the_method_documents_words():
    """The one test that reads the documents. Skipped only where they are not present — then the
    lists in tests/method_questions.py are trusted as written, and every other test still runs."""
    folder = method_dir()
    if folder is None:
        pytest.skip(
            "method documents not found (set DIALOGSTOD_METHOD_DIR, or put shared/method beside the "
            "checkout): tests/method_questions.py is not compared with its sources in this run"
        )

    def doc(key: str) -> str:
        text = norm((folder / SOURCES[key][0]).read_text(encoding="utf-8"))
        # The only extraction artefact the hand-written lists undo.
        return text.replace("under-leverantörer", "underleverantörer")

    misses = []
    text, pos = doc("000"), 0
    for q in DOC_000_QUESTIONS:
        at = text.find(norm(q), pos)
        if at < 0:
            misses.append(f"000 (in order): {q!r}")
        else:
            pos = at + len(norm(q))
    text, pos = doc("001"), 0
    if norm(DOC_001_FOCUS) not in text:
        misses.append(f"001: {DOC_001_FOCUS!r}")
    for area, title, guiding in DOC_001_AREAS:
        at = text.find(f"{area}: {title} {guiding}", pos)
        if at < 0:
            misses.append(f"001 (in order): {area}: {title} {guiding}")
        else:
            pos = at
    text, pos = doc("002"), 0
    for q in DOC_002_QUESTIONS:
        at = text.find(f"- {q}", pos)
        if at < 0:
            misses.append(f"002 (in order): {q!r}")
        else:
            pos = at
    pos = 0
    for pid, title, bullets in DOC_002_PARTS:
        number = pid.split("-")[1]
        at = text.find(f"Del {number} {title} " + " ".join(f"- {b}" for b in bullets), pos)
        if at < 0:
            misses.append(f"002: Del {number} as written")
        else:
            pos = at
    # flows/metod.toml: the method's support for preparing is the documents' words too
    from assistant.method import load_method

    method = load_method(FLOWS / "metod.toml")
    quoted = [(method.trust.source, p) for p in method.trust.principles]
    quoted += [(method.staircase.source, method.staircase.text)]
    quoted += [(method.data.source, t) for t in (method.data.intro, method.data.small_numbers, method.data.registration)]
    keys = {"fysioterapi-2023": "000", "skr-vardcentral": "001"}
    for source, words in quoted:
        for sentence in re.split(r"(?<=[.])\s+", norm(words)):
            if norm(sentence.rstrip(".")) not in doc(keys[source]):
                misses.append(f"metod.toml ({source}): {sentence!r}")
    assert not misses, "not in the method documents:\n" + "\n".join(misses)


# ---------------------------------------------------------------- every shipped flow loads


@pytest.mark.parametrize("name", ["fysioterapi-2023", "vardcentral", "nara-vard"])
def test_flow_loads_and_minutes_sum_to_meeting_minutes(name):
    flow = load(name)
    assert flow.id == name
    assert sum(s.minutes for s in flow.sections) == flow.meeting_minutes
    assert all(s.minutes > 0 for s in flow.sections)


# ---------------------------------------------------------------- fysioterapi-2023


def test_fysio_has_every_question_of_document_000_verbatim_and_in_order(fysio):
    find_in_order(DOC_000_QUESTIONS, texts_of(fysio.questions))


def test_fysio_has_no_questions_beyond_the_document(fysio):
    assert len(fysio.questions) == len(DOC_000_QUESTIONS) == 64


def test_fysio_questions_sit_in_the_document_sections_and_subareas(fysio):
    for area, title, subarea, questions in DOC_000_BANK:
        s = section(fysio, title)
        assert s.area == area
        if subarea is None:
            assert not s.subareas
            pool = s.questions
        else:
            subs = [sub for sub in s.subareas if sub.title == subarea]
            assert len(subs) == 1, f"{title}: expected subarea {subarea!r}"
            pool = subs[0].questions
        assert len(pool) == len(questions), f"{title} / {subarea}: question count"
        find_in_order(questions, texts_of(pool))


def test_fysio_section_structure(fysio):
    assert [(s.id, s.area, s.kind) for s in fysio.sections] == [
        ("p1", "P1", "dialogue"),
        ("p2", "P2", "dialogue"),
        ("p3", "P3", "dialogue"),
        ("p4", "P4", "dialogue"),
        ("p5", "P5", "dialogue"),
        ("sammanfattning", None, "summary"),
        ("aterkoppling", None, "feedback"),
    ]
    assert [sub.title for sub in fysio.section_index["p4"].subareas] == P4_SUBAREAS
    assert [sub.title for sub in fysio.section_index["p5"].subareas] == P5_SUBAREAS
    feedback = fysio.section_index["aterkoppling"]
    assert feedback.title == "Återkoppling till vårdvalsenheten"
    assert feedback.facilitator_only
    assert not fysio.section_index["sammanfattning"].facilitator_only
    assert fysio.meeting_minutes == 90


def test_fysio_named_ids(fysio):
    q = fysio.question_index
    assert (
        q["aterkoppling.kommande_mote"].text == "Kommande uppföljningsmöte? Önskemål om något fokusområde då?"
    )
    assert q["sammanfattning.bra"].text == "Vad gör ni bra?"
    assert q["sammanfattning.jobba_vidare"].text == "Vad ska ni jobba vidare med?"
    assert q["p1.vilka_arbetar"].text == "Vilka arbetar här?"
    assert q["p4.patientsakerhet.avvikelser"].text == "Hur fungerar avvikelserapportering?"
    assert q["p5.tillganglighet.telefon"].text == "Telefontillgänglighet?"


def test_fysio_konkret_exempel(fysio):
    step1 = fysio.question_index["p4.konkret.omrade"]
    assert step1.text == "Välj ett område att titta närmare på (t.ex. rehabplaner, levnadsvanor, atros)"
    assert step1.type == "single"
    assert step1.allow_other
    assert [(c.value, c.label) for c in step1.choices] == [
        ("rehabplaner", "Rehabplaner"),
        ("levnadsvanor", "Levnadsvanor"),
        ("artros", "Artros"),
    ]
    steps = [q for q in fysio.section_questions("p4") if fysio.subarea_of[q.id].title == "Konkret exempel"]
    assert [q.id for q in steps][0] == "p4.konkret.omrade"
    for q in steps[1:]:
        assert render.template_question_refs(q.text) == {"p4.konkret.omrade"}
        shown = render.render_text(q.text, {"p4.konkret.omrade": "Artros"})
        assert shown.endswith("(Artros)")
        assert "det valda området" in render.render_text(q.text, {})


def test_fysio_indicator_links(fysio):
    def linked(indicator: str) -> set[str]:
        return {q.id for q in fysio.questions_for_indicator(indicator)}

    assert linked("telefontillganglighet") == {"p5.tillganglighet.telefon"}
    assert linked("mangsokare") == {"p5.besoksmonster.mangsokare"}
    for ind in ("besok_nybesok", "besok_aterbesok", "besok_gruppbesok", "besok_distans"):
        assert linked(ind) == {"p5.besoksmonster.fordelning"}
    for ind in NPE:
        assert linked(ind) == {"p3.npe_resultat", "p3.npe_atgarder"}
    assert "p4.konkret.omrade" in linked("rehabplaner")
    assert "p4.prevention.forbattringspotential" in linked("levnadsvanor_dokumenterade")
    assert linked("boa_deltagande")


def test_fysio_roles_and_phases(fysio):
    roles = {r.id: r for r in fysio.roles}
    assert set(roles) == {"verksamhetschef", "fysioterapeut", "annan", "utvecklingsledare"}
    assert roles["utvecklingsledare"].facilitator_only
    assert roles["utvecklingsledare"].responsibility == "Dokumentera"
    assert roles["utvecklingsledare"].party == "Vårdvalsenheten"
    assert all(
        roles[r].responsibility == "Presentera data" for r in ("verksamhetschef", "fysioterapeut", "annan")
    )
    assert [(p.id, p.title) for p in fysio.phases] == [
        ("before", "Inför uppföljningsdialogen"),
        ("during", "Under uppföljningsdialogen"),
        ("after", "Efter uppföljningsdialogen"),
    ]
    before, during, after = (p.instructions for p in fysio.phases)
    assert "Fundera på om det är några områden som är extra viktiga att diskutera vid dialogen" in before
    assert any(
        i.startswith("Översiktlig koll på verksamhetens resultat utifrån tillgänglig data") for i in before
    )
    assert any("målet är att ha dialog kring samtliga fem områden (P1-P5)" in i for i in during)
    assert "Dokumentation och återkoppling efter genomförd Uppföljningsdialog" in after
    assert (
        "SKR" in fysio.provenance and "Vårdval fysioterapi" in fysio.provenance and "2023" in fysio.provenance
    )


# ---------------------------------------------------------------- vardcentral


def test_vardcentral_areas_and_guiding_questions(vardcentral):
    dialogue = vardcentral.dialogue_sections
    assert [(s.area, s.title) for s in dialogue] == [(a, t) for a, t, _ in DOC_001_AREAS]
    for s, (_, _, guiding) in zip(dialogue, DOC_001_AREAS, strict=True):
        assert s.intro == guiding  # each area opens with the document's words
        first = vardcentral.section_questions(s.id)[0]
        if guiding.endswith("?"):  # P1–P4: the lead question is the area's first question, the document's own
            assert norm(first.text) == norm(guiding), f"{s.title}: first question must be {guiding!r}"
            assert vardcentral.origin_of(first.id)[0] == "document"
        else:  # P5 "Lärdomar om vårt mikrosystem" describes the area; it is not posed as a question
            assert all(norm(guiding) not in norm(q.text) for q in vardcentral.section_questions(s.id))
    assert [s.id for s in vardcentral.sections][-2:] == ["sammanfattning", "aterkoppling"]
    assert vardcentral.section_index["aterkoppling"].facilitator_only


def test_vardcentral_focus_and_provenance(vardcentral):
    assert vardcentral.focus.prompt == "Välj ut 2-3 områden som är extra viktiga att diskutera"
    assert vardcentral.focus.prompt == DOC_001_FOCUS and vardcentral.focus.ask
    assert (vardcentral.focus.min, vardcentral.focus.max) == (2, 3)
    assert "anpassade från frågebanken i Uppföljningsdialog 2023 – Vårdval fysioterapi" in norm(
        vardcentral.provenance
    )
    assert any(r.responsibility == "Dokumentering" for r in vardcentral.roles)


def test_vardcentral_marks_everything_borrowed_from_the_physio_bank(vardcentral, fysio):
    guiding = {norm(g) for _, _, g in DOC_001_AREAS}
    for q in vardcentral.questions:
        origin, source = vardcentral.origin_of(q.id)
        if origin == "document":
            assert norm(q.text) in guiding, f"{q.id} is marked as the document's own but is not in it"
            continue
        assert origin in ("borrowed", "adapted"), q.id
        assert source is not None and source.id == "fysioterapi-2023", q.id
        original = fysio.question_index[q.id].text if q.id in fysio.question_index else None
        if origin == "borrowed":
            assert q.text == original, f"{q.id}: borrowed questions keep the bank's words"
        else:
            assert q.original == original and q.text != original, f"{q.id}: an adapted question names its original"
    # the altered question is marked, and the examples the bank does not give are gone
    assert vardcentral.origin_of("p4.organisation.styrande_dokument")[0] == "adapted"
    step1 = vardcentral.question_index["p4.konkret.omrade"]
    assert not step1.choices and "kronisk" not in step1.text and "tillgänglighet" not in step1.text
    assert vardcentral.origin_note("p4.konkret.omrade").startswith("Anpassad från Uppföljningsdialog 2023")
    assert vardcentral.origin_note("syfte.varfor_finns") is None


def test_vardcentral_reuses_fysio_ids_for_the_same_questions(vardcentral, fysio):
    shared = set(vardcentral.question_index) & set(fysio.question_index)
    for qid in (
        "sammanfattning.bra",
        "sammanfattning.jobba_vidare",
        "aterkoppling.kommande_mote",
        "p1.vilka_arbetar",
        "p4.konkret.omrade",
        "p5.tillganglighet.telefon",
    ):
        assert qid in shared
    for qid in shared:
        q = vardcentral.question_index[qid]
        assert fysio.question_index[qid].text in (q.text, q.original), qid


def test_vardcentral_keeps_the_fysio_bank_order_where_it_follows_it(vardcentral, fysio):
    # Within each P-area the adapted questions keep the fysioterapi bank's relative order.
    for s in vardcentral.dialogue_sections:
        ids = [q.id for q in vardcentral.section_questions(s.id) if q.id in fysio.order]
        assert ids == sorted(ids, key=fysio.order.__getitem__), s.title


def test_vardcentral_has_no_physio_only_questions(vardcentral):
    for q in vardcentral.questions:
        text = q.text.casefold()
        for word in ("fysioterap", "medrave", "boa", "artros", "rehabplan", "vida "):
            assert word not in text, f"{q.id}: physio-only wording {word!r}"


# ---------------------------------------------------------------- nara-vard


def test_nara_vard_questions_verbatim_and_in_order(nara_vard):
    find_in_order(DOC_002_QUESTIONS, texts_of(nara_vard.questions))
    for area, title, questions in DOC_002_AREAS:
        s = next(s for s in nara_vard.sections if s.area == area)
        assert s.title == title
        assert [norm(q.text) for q in s.questions] == [norm(q) for q in questions]
    assert [s.area for s in nara_vard.dialogue_sections] == ["A", "B", "C"]


def test_nara_vard_parts_are_phases(nara_vard):
    assert [p.id for p in nara_vard.phases] == [pid for pid, _, _ in DOC_002_PARTS]
    for phase, (_, title, bullets) in zip(nara_vard.phases, DOC_002_PARTS, strict=True):
        assert title in phase.title
        assert phase.instructions == bullets


def test_nara_vard_closing_sections(nara_vard):
    q = nara_vard.question_index
    assert q["sammanfattning.bra"].text == "Vad gör ni bra?"
    assert q["sammanfattning.jobba_vidare"].text == "Vad ska ni jobba vidare med?"
    assert (
        q["aterkoppling.kommande_mote"].text == "Kommande uppföljningsmöte? Önskemål om något fokusområde då?"
    )


def test_nara_vard_parts_are_stages_of_joint_work_and_areas_say_what_they_mean(nara_vard):
    assert [p.id for p in nara_vard.stages] == ["del-1", "del-2", "del-3"]
    intros = {s.area: s.intro for s in nara_vard.dialogue_sections}
    for area, word, swedish in (("A", "Input", "går in"), ("B", "Process", "hur arbetet görs"), ("C", "Output", "kommer ut")):
        assert intros[area].startswith(word) and swedish in intros[area]
    assert [p.title for p in nara_vard.party_list] == ["Regionen", "Kommunen"]
    doc = nara_vard.document
    assert "Mottagning" not in (doc.unit, doc.title) and "Uppföljningsdialog" not in (doc.meeting, doc.title)
    assert nara_vard.origin_of("sammanfattning.bra")[0] == "added"
    assert nara_vard.origin_of("aterkoppling.kommande_mote")[0] == "borrowed"


@pytest.mark.parametrize("name", ["fysioterapi-2023", "vardcentral", "nara-vard"])
def test_parties_come_from_the_flow_and_name_the_documents_parties(name):
    flow = load(name)
    titles = [p.title for p in flow.party_list]
    expected = {
        "fysioterapi-2023": ["Fysioterapimottagning", "Vårdvalsenheten"],
        "vardcentral": ["Vårdcentralen", "Regionen"],
        "nara-vard": ["Regionen", "Kommunen"],
    }[name]
    assert titles == expected
    for role in flow.roles:
        assert flow.party(role.party) is not None


@pytest.mark.parametrize("name", ["fysioterapi-2023", "vardcentral", "nara-vard"])
def test_sources_are_named_by_title_publisher_and_year_never_by_path(name):
    raw = (FLOWS / f"{name}.toml").read_text(encoding="utf-8")
    assert "/work/" not in raw and "shared/method" not in raw and ".txt" not in raw
    flow = load(name)
    assert flow.sources, "a shipped flow names its source documents"
    for src in flow.sources:
        assert src.title and src.publisher
        assert "/" not in src.citation.replace("Nära vård", "")
    assert flow.sources[0].year or "årtal" in (flow.sources[0].note or "")


SECOND_PERSON = re.compile(r"\b(ni|er|era|ert|eder)\b", re.IGNORECASE)


@pytest.mark.parametrize("name", ["fysioterapi-2023", "vardcentral", "nara-vard"])
def test_self_mode_texts_are_in_vi_form(name):
    """Every text the team sees in a self-assessment: questions, intros, rule reasons and
    follow-up questions (rendered), the flow's introduction."""
    from assistant import engine as E
    from tests.conftest import T0

    flow = load(name)
    state = E.replay(flow, E.start(flow, E.StartOptions(clinic="X", mode="self"), T0))
    seen: list[tuple[str, str]] = []
    for qid in state.order:
        seen.append((qid, E.prompt_text(state, qid)))
    seen.append(("intro", E.flow_intro(state) or ""))
    for section in flow.sections:
        if section.facilitator_only:
            continue
        seen.append((section.id, section.self_intro or section.intro or ""))
        for sub in section.subareas:
            seen.append((sub.id, sub.self_intro or sub.intro or ""))
    ctx = {"flag": SimpleNamespace(value=0.5, n=100, target=0.8, period="2025", ci_low=0.4, ci_high=0.6, label="Telefontillgänglighet"),
           "match": SimpleNamespace(word="stress", question="x")}
    for rule in flow.rules:
        for raw in (rule.self_reason or rule.reason, rule.self_text or rule.text):
            if raw:
                seen.append((rule.id, render.render_text(raw, {}, **ctx)))
    offenders = [(where, text) for where, text in seen if SECOND_PERSON.search(text)]
    assert not offenders


# ---------------------------------------------------------------- rules

NPE = [
    "npe_helhetsintryck",
    "npe_delaktighet",
    "npe_emotionellt_stod",
    "npe_information",
    "npe_kontinuitet",
    "npe_respekt",
    "npe_tillganglighet",
]
FLAGGABLE = [
    "telefontillganglighet",
    "mangsokare",
    "besok_nybesok",
    "besok_aterbesok",
    "besok_gruppbesok",
    "besok_distans",
    *NPE,
    "rehabplaner",
    "boa_deltagande",
    "levnadsvanor_dokumenterade",
]
_PARSE = jinja2.Environment()
_PARSE.filters.update(render.FILTERS)


def template_names(text: str | None) -> set[str]:
    return meta.find_undeclared_variables(_PARSE.parse(text)) if text else set()


def has(cond, kind) -> bool:
    return any(isinstance(node, kind) for node in walk(cond))


def fake_flag(full: bool):
    return SimpleNamespace(
        indicator="telefontillganglighet",
        label="Telefontillgänglighet",
        states=("misses_target",),
        period="2024 T1" if full else None,
        value=0.78 if full else None,
        n=1204 if full else None,
        target=0.85 if full else None,
        ci_low=0.75 if full else None,
        ci_high=0.81 if full else None,
        text="under målet" if full else None,
    )


@pytest.mark.parametrize("name", ["fysioterapi-2023", "vardcentral", "nara-vard"])
def test_rule_templates_only_use_what_their_condition_provides_and_render(name):
    flow = load(name)
    match = SimpleNamespace(word="Fallolyckor", stem="fallolyck", question="p4.patientsakerhet.utmaningar")
    for rule in flow.rules:
        used = template_names(rule.reason) | template_names(rule.text)
        assert used <= {"flag", "match", "svar"}, f"{rule.id}: unknown template names {used}"
        if "flag" in used:
            assert has(rule.when, Flag), f"{rule.id}: uses flag without a flag condition"
        if "match" in used:
            assert has(rule.when, ContainsAny), f"{rule.id}: uses match without contains_any"
        for full in (True, False):
            context = {"flag": fake_flag(full)} if has(rule.when, Flag) else {}
            if has(rule.when, ContainsAny):
                context["match"] = match
            for template in (rule.reason, rule.text):
                if template:
                    shown = render.render_text(template, {}, **context)
                    assert shown.strip() and "{{" not in shown, rule.id


def test_telefon_reason_shows_the_figures_swedish_style(fysio):
    reason = fysio.rule_index["telefon-under-mal"].reason
    shown = render.render_text(reason, {}, flag=fake_flag(True))
    assert shown == "Telefontillgängligheten (2024 T1) var 78\u00a0% (n = 1\u00a0204), mål 85\u00a0%."
    assert render.render_text(reason, {}, flag=fake_flag(False)) == "Telefontillgängligheten var –."


def flag_rules(flow: Flow, indicator: str):
    return [
        r
        for r in flow.rules
        if any(isinstance(n, Flag) and n.flag.indicator == indicator for n in walk(r.when))
    ]


@pytest.mark.parametrize("indicator", FLAGGABLE)
def test_fysio_every_flaggable_indicator_suggests_its_linked_questions(fysio, indicator):
    rules = flag_rules(fysio, indicator)
    assert rules, f"no rule for {indicator}"
    linked = {q.id for q in fysio.questions_for_indicator(indicator)}
    suggested = {q for r in rules for q in r.suggest}
    assert linked & suggested, f"{indicator}: no rule suggests a linked question"
    assert any("flag.value" in r.reason for r in rules), f"{indicator}: no reason shows the figure"


def test_fysio_telefon_rules_cover_every_worse_state(fysio):
    states = {
        s
        for r in flag_rules(fysio, "telefontillganglighet")
        for n in walk(r.when)
        if isinstance(n, Flag)
        for s in n.flag.any_of
    }
    assert {
        "misses_target",
        "possibly_misses_target",
        "worse_than_peers",
        "clearly_worse_than_peers",
        "worse_than_previous",
    } <= states


@pytest.mark.parametrize("name", ["fysioterapi-2023", "vardcentral"])
def test_patient_safety_talk_leads_to_deviation_reporting(name):
    # What is said in answers is read through the topic catalogue (flows/topics.toml), not rules.
    from assistant.session import topic_set

    topics = topic_set(load(name)).topics
    assert topics["avvikelser"].questions[0] == "p4.patientsakerhet.avvikelser"
    assert topics["vardskador"].questions[0] == "p4.patientsakerhet.avvikelser"
    assert "p4.patientsakerhet.utmaningar" in topics["fall"].questions


@pytest.mark.parametrize("name", ["fysioterapi-2023", "vardcentral"])
def test_konkret_exempel_is_proposed_from_flags_and_from_answers(name):
    from assistant.session import topic_set

    flow = load(name)
    rules = [r for r in flow.rules if "p4.konkret.omrade" in r.suggest]
    assert any(has(r.when, Flag) for r in rules)
    from_answers = {t.id for t in topic_set(flow).topics.values() if "p4.konkret.omrade" in t.questions}
    assert "levnadsvanor" in from_answers
    assert from_answers & {"rehabplaner", "artros", "kroniska"}


@pytest.mark.parametrize("name", ["fysioterapi-2023", "vardcentral", "nara-vard"])
def test_action_from_jobba_vidare_and_untouched_areas(name):
    flow = load(name)
    assert any(
        r.action and r.when.model_dump() == {"answered": "sammanfattning.jobba_vidare"} for r in flow.rules
    )
    for s in flow.dialogue_sections:
        first = flow.section_questions(s.id)[0].id
        assert any(
            r.when.model_dump() == {"all": [{"untouched": s.id}, {"time_used": 0.6}]} and r.suggest == [first]
            for r in flow.rules
        ), f"no time rule for untouched {s.id}"


def test_rule_ids_are_readable():
    for name in ("fysioterapi-2023", "vardcentral", "nara-vard"):
        for rule in load(name).rules:
            assert re.fullmatch(r"[a-z0-9-]+", rule.id), rule.id


def test_flows_show_json_lists_every_question_of_the_document_in_order(capsys):
    import json as _json

    from assistant.cli import main

    assert main(["flows", "show", "fysioterapi-2023", "--json"]) == 0
    shown = _json.loads(capsys.readouterr().out)
    flow = load_flow(FLOWS / "fysioterapi-2023.toml").flow
    assert [q["id"] for q in shown["questions"]] == [q.id for q in flow.questions]
    assert len(shown["questions"]) == 64
    assert shown["questions"][0]["text"] == "Vilka arbetar här?"
    assert shown["questions"][-1]["text"] == "Kommande uppföljningsmöte? Önskemål om något fokusområde då?"
