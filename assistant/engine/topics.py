"""Topics in answers: noticing what was said, wherever it was said, and which question explores it.

``compile_topics(catalogue, flow)`` turns the topic catalogue into a ``TopicSet`` for one flow;
``TopicSet.detect(text)`` finds the topics an answer takes up; ``topic_suggestions(state, topics,
flags)`` makes the follow-ups. Pure and deterministic: the same catalogue, flow and text always give
the same topics. Words are compared as lemmas and compound parts (``assistant.lexicon``), so
"ramlat", "föll" and "fallolyckor" are all falls, and "levnadsvanesamtalen" is lifestyle habits.

A topic's suggestion, for one cue (the latest answer that mentions it):
- leads to the first of the topic's questions in this flow that is still open, never one already
  answered, the question on screen, or the one that comes next anyway (if the conversation is
  already on its way to one of the topic's questions, the topic waits);
- when all of them are done and the topic has a follow-up, asks that instead (once);
- is ranked by: the topic's own (first) question as target, a mention made elsewhere than at the
  topic's questions, a problem cue in the same sentence, a focus area, a flag on one of the topic's
  indicators, an area not yet touched, and the latest answer first;
- has the id ``amne.<topic>.<question the cue was said at>``: accepted or dismissed, it does not
  come back for that cue; a new mention in a later answer is a new cue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant import lexicon
from assistant.topics import ANY, GAP, phrase_items

if TYPE_CHECKING:
    from assistant.engine.state import State
    from assistant.flows import Flow
    from assistant.topics import TopicCatalogue

SID_PREFIX = "amne."
# Words, numbers and hyphenated words ("e-tjänster", "drop-in", "KVÅ-koder", "1177").
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?;\n]+|\s[–-]\s")
MAX_GAP = 4
NEGATION_REACH = 2  # "inga problem", "inga större problem"
COMPOUND_PART = 4  # a topic word this long also counts as a part of a compound, unless marked
FUZZY_MIN = 7  # an unknown word this long may be a typo of a topic word (one letter off)
MAX_ANSWER = 20_000  # longer texts are read up to here (an answer is at most a few hundred words)
CONCERNING = frozenset(
    {"misses_target", "possibly_misses_target", "worse_than_peers", "clearly_worse_than_peers", "worse_than_previous"}
)

# Ranking (added to the topic's priority).
OWN_QUESTION = 10
SAID_ELSEWHERE = 10
PROBLEM = 15
FOCUS = 20
FLAGGED = 10
UNTOUCHED = 10
LATEST = 5


@dataclass(frozen=True, slots=True)
class Token:
    form: str  # case-folded, as written
    lemma: str
    sentence: int
    known: bool  # the dictionary knows the form
    keys: tuple[str, ...]  # what a word or phrase item is compared with: form and lemma


@dataclass(frozen=True)
class Mention:
    topic: str
    words: tuple[str, ...]  # the words as written that made the match (for reports, never shown as a reason)
    problem: bool  # a problem cue in a sentence that mentions the topic


@dataclass(frozen=True)
class Detection:
    mentions: dict[str, Mention]
    cause: bool  # the answer gives a cause (eftersom, på grund av, beror på)


@dataclass(frozen=True)
class CompiledTopic:
    id: str
    name: str
    noun: str
    reason: str
    self_reason: str
    followup: str | None
    self_followup: str | None
    questions: tuple[str, ...]
    indicators: frozenset[str]
    priority: int


Phrase = tuple[str, ...]
PhraseIndex = dict[str, list[Phrase]]  # first word -> phrases starting with it


def _phrase(text: str) -> Phrase:
    return tuple(phrase_items(text))


@dataclass
class TopicSet:
    """The topics of one flow, compiled for fast matching."""

    topics: dict[str, CompiledTopic]
    whole: dict[str, set[str]] = field(default_factory=dict)  # word -> topic ids
    first: dict[str, set[str]] = field(default_factory=dict)  # a first part as written in compounds -> topics
    last: dict[str, set[str]] = field(default_factory=dict)  # a last part (lemma) -> topics
    phrases: dict[str, list[tuple[Phrase, str]]] = field(default_factory=dict)  # first word -> (phrase, topic)
    guards: dict[str, PhraseIndex] = field(default_factory=dict)  # topic -> its guards
    problem_cues: PhraseIndex = field(default_factory=dict)
    cause_cues: PhraseIndex = field(default_factory=dict)
    negations: PhraseIndex = field(default_factory=dict)
    _cache: dict[str, Detection] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------ detection

    def detect(self, text: str) -> Detection:
        cached = self._cache.get(text)
        if cached is None:
            cached = self._detect(text)
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[text] = cached
        return cached

    def _detect(self, text: str) -> Detection:
        tokens = tokenize(text[:MAX_ANSWER])
        hits: dict[str, list[tuple[int, int]]] = {}  # topic -> spans (start, end) of tokens
        for i, tok in enumerate(tokens):
            for topic in self._word_topics(tok):
                hits.setdefault(topic, []).append((i, i + 1))
            for key in tok.keys:
                for phrase, topic in self.phrases.get(key, ()):
                    end = match_phrase(tokens, i, phrase)
                    if end is not None:
                        hits.setdefault(topic, []).append((i, end))
        mentions: dict[str, Mention] = {}
        if not hits:
            return Detection(mentions, False)
        problem_sentences = self._problem_sentences(tokens)
        for topic, spans in hits.items():
            guarded = {i for a, b in _spans(tokens, self.guards.get(topic, {})) for i in range(a, b)}
            kept = [(a, b) for a, b in spans if not (b - a == 1 and a in guarded)]
            if not kept:
                continue
            words = tuple(dict.fromkeys(" ".join(t.form for t in tokens[a:b]) for a, b in kept))
            problem = any(tokens[a].sentence in problem_sentences for a, _ in kept)
            mentions[topic] = Mention(topic=topic, words=words, problem=problem)
        cause = bool(mentions) and bool(_spans(tokens, self.cause_cues))
        return Detection(mentions, cause)

    def _word_topics(self, tok: Token) -> set[str]:
        found: set[str] = set()
        for key in tok.keys:
            found |= self.whole.get(key, set())
        for key in tok.keys:  # an unknown compound's lemma already has its last part's lemma
            found |= self._compound_topics(key.replace("-", ""))
        if not found and not tok.known and len(tok.form) >= FUZZY_MIN:
            found |= self._near(tok.form)
        return found

    def _compound_topics(self, word: str) -> set[str]:
        """Topic words as parts of a compound, both sides checked against the dictionary:
        levnadsvane|samtalen, fall|olycka, telefon|kön, telefon|tolk."""
        found: set[str] = set()
        n = len(word)
        if n < 2 * lexicon.MIN_PART:
            return found
        for k in range(lexicon.MIN_PART, n - lexicon.MIN_PART + 1):
            topics = self.first.get(word[:k])
            if topics and not topics <= found and lexicon.is_word_or_compound(word[k:]):
                found |= topics
            topics = self.last.get(word[k:])
            if topics and not topics <= found and lexicon.first_part_lemma(word[:k]) is not None:
                found |= topics
        return found

    def _near(self, form: str) -> set[str]:
        """A typo: one letter added, missing, changed or swapped in a long topic word."""
        found: set[str] = set()
        for word, topics in self.whole.items():
            if abs(len(word) - len(form)) <= 1 and len(word) >= FUZZY_MIN and _one_edit(form, word):
                found |= topics
        return found

    def _problem_sentences(self, tokens: list[Token]) -> set[int]:
        out: set[int] = set()
        negated_ends = {end for _, end in _spans(tokens, self.negations)}
        for start, _ in _spans(tokens, self.problem_cues):
            if any(start - k in negated_ends for k in range(NEGATION_REACH + 1)):
                continue  # "inga problem", "ingen brist på"
            out.add(tokens[start].sentence)
        return out

    # ------------------------------------------------------------ for rules

    def cause_given(self, state: State, topic: str) -> bool:
        """Whether an answer that takes up the topic already gives a cause for it."""
        for qid, text in state.answers.items():
            if not _is_free_text(state, qid):
                continue
            found = self.detect(text)
            if found.cause and topic in found.mentions:
                return True
        return False


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    sentence = 0
    pos = 0
    for m in _TOKEN.finditer(text):
        if _SENTENCE_END.search(text, pos, m.start()):
            sentence += 1
        pos = m.end()
        form = m.group(0).casefold()
        tokens.append(_token(form, sentence))
    return tokens


def _token(form: str, sentence: int) -> Token:
    if form.isdigit():
        return Token(form, form, sentence, True, (form,))
    lemma = lexicon.lemma(form)
    return Token(form, lemma, sentence, lexicon.is_word(form), (form,) if lemma == form else (form, lemma))


def _item_matches(item: str, tok: Token) -> bool:
    return item == ANY or item in tok.keys


def match_phrase(tokens: list[Token], start: int, phrase: Phrase) -> int | None:
    """The end (exclusive) of the phrase matched from ``start``, within one sentence, or None."""
    if not _item_matches(phrase[0], tokens[start]):
        return None
    sentence = tokens[start].sentence

    def rest(i: int, k: int) -> int | None:
        if k == len(phrase):
            return i
        item = phrase[k]
        if item == GAP:
            for j in range(i, min(i + MAX_GAP + 1, len(tokens))):
                if tokens[j].sentence != sentence:
                    break
                end = rest(j, k + 1)
                if end is not None:
                    return end
            return None
        if i < len(tokens) and tokens[i].sentence == sentence and _item_matches(item, tokens[i]):
            return rest(i + 1, k + 1)
        return None

    return rest(start + 1, 1)


def _spans(tokens: list[Token], index: PhraseIndex) -> list[tuple[int, int]]:
    """Where any of the indexed phrases matches: (start, end) token spans."""
    out = []
    if not index:
        return out
    for i, tok in enumerate(tokens):
        for key in tok.keys:
            for phrase in index.get(key, ()):
                end = match_phrase(tokens, i, phrase)
                if end is not None:
                    out.append((i, end))
    return out


def _index(phrases) -> PhraseIndex:
    out: PhraseIndex = {}
    for p in phrases:
        phrase = _phrase(p)
        out.setdefault(phrase[0], []).append(phrase)
    return out


def _one_edit(a: str, b: str) -> bool:
    """Damerau–Levenshtein distance of at most one."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) != 1:
        return False
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


# ---------------------------------------------------------------- compiling


def compile_topics(catalogue: TopicCatalogue, flow: Flow) -> TopicSet:
    """The topics this flow uses, each with the questions it has (ids it lacks are left out:
    a flow kept from before a catalogue change is read as it is)."""
    from assistant.topics import uses

    out = TopicSet(topics={})
    out.problem_cues = _index(catalogue.problem_cues)
    out.cause_cues = _index(catalogue.cause_cues)
    out.negations = _index(catalogue.negations)
    for t in catalogue.topics:
        if not uses(t, flow):
            continue
        questions = tuple(q for q in t.questions_for(flow.id) if q in flow.question_index)
        if not questions:
            continue
        out.topics[t.id] = CompiledTopic(
            id=t.id,
            name=t.name,
            noun=t.noun,
            reason=t.reason,
            self_reason=t.self_reason,
            followup=t.followup,
            self_followup=t.self_followup,
            questions=questions,
            indicators=frozenset(t.indicators),
            priority=t.priority,
        )
        for entry in t.lemmas:
            word = entry.strip("=-")
            out.whole.setdefault(word, set()).add(t.id)
            marked = entry.startswith(("-", "=")) or entry.endswith("-")
            first = entry.endswith("-") or (not marked and len(word) >= COMPOUND_PART)
            last = entry.startswith("-") or (not marked and len(word) >= COMPOUND_PART)
            if first:
                for form in lexicon.linking_forms(word):
                    out.first.setdefault(form, set()).add(t.id)
            if last:
                out.last.setdefault(word, set()).add(t.id)
        for p in t.phrases:
            phrase = _phrase(p)
            out.phrases.setdefault(phrase[0], []).append((phrase, t.id))
        out.guards[t.id] = _index(t.guards)
    return out


# ---------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class Cue:
    topic: str
    qid: str  # the question the answer was given at
    mention: Mention
    order: int  # answering order: later cues are newer


def _is_free_text(state: State, qid: str) -> bool:
    q = state.flow.question_index.get(qid)
    return q is None or q.type == "text"  # follow-ups (not in the bank) are free text


def cues(state: State, topics: TopicSet) -> dict[str, Cue]:
    """For each topic, the latest answer that takes it up."""
    def when(qid: str) -> tuple[float, str]:
        at = state.answered_at.get(qid)
        return (at.timestamp() if at is not None else float("-inf"), qid)

    answered = sorted(state.answers, key=when)
    latest: dict[str, Cue] = {}
    for n, qid in enumerate(answered):
        if not _is_free_text(state, qid):
            continue
        for topic, mention in topics.detect(state.answers[qid]).mentions.items():
            if topic in topics.topics:
                latest[topic] = Cue(topic, qid, mention, n)
    return latest


def topic_suggestions(state: State, topics: TopicSet, flags: list[Any] | None = None) -> list[tuple[int, Any]]:
    """(score, Suggestion) for each topic worth a follow-up now. ``Suggestion.alternatives`` holds
    the topic's other open questions, for when a better-ranked suggestion already asks the first."""
    from assistant.engine.navigation import next_question, prompt_text
    from assistant.engine.state import FOLLOWUP_PREFIX
    from assistant.engine.suggestion import Suggestion

    found = cues(state, topics)
    if not found:
        return []
    flagged = {f.indicator for f in flags or () if CONCERNING & set(getattr(f, "states", ()))}
    focus = set(state.focus_sections)
    current = state.current.qid if state.current else None
    coming = next_question(state)
    newest = max((c.order for c in found.values()), default=-1)
    self_mode = state.mode == "self"
    out: list[tuple[int, Any]] = []
    for topic_id, cue in sorted(found.items()):
        topic = topics.topics[topic_id]
        sid = f"{SID_PREFIX}{topic_id}.{cue.qid}"
        if sid in state.accepted or sid in state.dismissed:
            continue
        if current in topic.questions or coming in topic.questions:
            continue  # the conversation is already on its way there
        targets = [
            q
            for q in topic.questions
            if q != cue.qid and (state.is_open(q) or q in state.parked) and not _hidden(state, q)
        ]
        text = section = None
        if not targets:
            followup = topic.self_followup if self_mode else topic.followup
            if not followup or FOLLOWUP_PREFIX + SID_PREFIX + topic_id in state.followups:
                continue
            done = [state.answered_at[q] for q in topic.questions if q in state.answered_at]
            said = state.answered_at.get(cue.qid)
            if cue.qid in topic.questions or not done or said is None or said < max(done):
                continue
            text, section = followup, state.section_id_of(topic.questions[0])
        score = topic.priority
        if targets and targets[0] == topic.questions[0]:
            score += OWN_QUESTION
        if cue.qid not in topic.questions:
            score += SAID_ELSEWHERE
        if cue.mention.problem:
            score += PROBLEM
        target_section = state.section_id_of(targets[0]) if targets else section
        if target_section in focus:
            score += FOCUS
        if topic.indicators & flagged:
            score += FLAGGED
        if target_section and not state.section_touched(target_section):
            score += UNTOUCHED
        if cue.order == newest:
            score += LATEST
        suggestion = Suggestion(
            sid=sid,
            rule=SID_PREFIX + topic_id,
            reason=topic.self_reason if self_mode else topic.reason,
            questions=tuple(targets[:1]),
            text=text,
            section=section,
            score=score,
            labels=tuple(prompt_text(state, q) for q in targets[:1]),
            topic=topic_id,
            alternatives=tuple(targets[1:]),
        )
        out.append((score, suggestion))
    return out


def _hidden(state: State, qid: str) -> bool:
    section = state.flow.section_of.get(qid)
    return bool(section and state.mode == "self" and section.facilitator_only)

