"""Turn a question into an answer: the right story, its best bullets, and all of its narratives.

Two steps, because they need different evidence (numbers from tests/eval, dev split):

1. Route to a story. Each candidate story scores its best item's cosine plus a share of its best BM25
   score over "title + item" texts: dense search finds paraphrases, BM25 finds names, numbers and rare
   words the small model blurs. Scoring stories rather than fusing item ranks keeps a story with many
   mediocre hits from beating the one with the single right bullet.
2. Rank that story's bullets. A question usually names its story ("when will Sorrel Bank start
   generating?"), and those topic words pull every question towards the lead bullet, which restates the
   topic. So bullets are scored against the question and against its *focus*, the question without the
   story's title words, plus BM25 over the focus words; this took top-1 from 0.77 to 0.93 on dev.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .abstention import Evidence, should_answer
from .answer import Answer, AnswerStory, answer_fact, clean_question
from .embedder import Embedder, embedder_for
from .lexical import LexicalIndex, Matches, stems, tokenize_query
from .models import Story
from .settings import DEFAULT_MODEL
from .store import FACT, Generation, read_generation

CANDIDATES = 50  # items taken from each search to find candidate stories
STORY_LEXICAL_WEIGHT = 0.35  # routing: cosine + this * (story's best BM25 / corpus's best BM25)
FOCUS_WEIGHT = 0.5  # bullets: (1 - w) * cosine to question + w * cosine to its focus
BULLET_LEXICAL_WEIGHT = 0.2  # bullets: + this * BM25 of the focus words, relative to the story's best
MAX_STORIES = 3
MAX_FACTS = 3
FACT_MARGIN = 0.25  # bullets after the first are shown only when they score this close to it
SUGGESTIONS = 3
QUESTION_JOINS = re.compile(r"\s*(?:\band\b|&|;|\bvs\.?|\bversus\b|\?(?=\s*\S))\s*", re.I)


def focus_of(question: str, title: str) -> str:
    """The question without the words of the story's title: what it asks *about* the story."""
    title_stems = set(stems(title))
    words = re.findall(r"[\w'’%.,-]+|\?", question)
    kept = [w for w in words if not (set(stems(w)) & title_stems)]
    return " ".join(kept) if len([w for w in kept if w != "?"]) >= 2 else question


def question_parts(question: str) -> list[str]:
    """The parts of a question about several stories ("the rent cap and the police change"), or none.

    Each part is answered on its own and adds its story only when it passes the abstention check by
    itself; on tests/eval this finds both stories of every two-story question and adds no story to any
    single-story question.
    """
    parts = [part.strip(" ,") for part in QUESTION_JOINS.split(question)]
    parts = [part for part in parts if len(tokenize_query(part)) >= 2]
    return parts if len(parts) > 1 else []


@dataclass
class Candidate:
    """One story that might answer, with its bullets ranked and the evidence for answering at all."""

    story: int
    score: float  # routing score: best item cosine + a share of BM25
    facts: np.ndarray  # item rows of its bullets, best first
    fact_scores: np.ndarray  # their scores, same order
    evidence: Evidence


@dataclass
class Retrieval:
    """Everything `ask` decides from, before it decides: for calibration and debugging."""

    question: str
    routed: list[tuple[int, float]]  # (story, routing score), best first; empty only when nothing matched
    best: Candidate | None  # the best story with its bullets ranked; only it can answer


class KnowledgeBase:
    """A loaded index, ready to answer; safe to call from several threads at once."""

    def __init__(self, generation: Generation, embedder: Embedder):
        self.generation = generation
        self.embedder = embedder
        self.lexical = LexicalIndex(generation.lexical)
        self._vectors = np.asarray(generation.vectors)  # a plain view of the memory map: no copy, no subclass overhead
        self._stories = generation.stories
        shelf = generation.stories
        self._by_key = {t.casefold(): n for n, t in enumerate(shelf.titles)} | {i: n for n, i in enumerate(shelf.ids)}

    @property
    def path(self) -> Path:
        return self.generation.path

    def titles(self) -> list[str]:
        return list(self._stories.titles)

    def story(self, title: str) -> AnswerStory | None:
        """The full card of a story by its exact title (any case) or id."""
        number = self._find(title)
        return AnswerStory.from_story(self._stories[number]) if number is not None else None

    def source_file(self, title: str) -> Path | None:
        """The file a story was read from, by exact title (any case) or id."""
        number = self._find(title)
        file = self._stories.source_files[number] if number is not None else None
        return Path(file) if file else None

    def catalog(self) -> list[AnswerStory]:
        """Every story as a card, newest first (undated last)."""
        shelf = self._stories
        order = sorted(range(len(shelf)), key=lambda n: (shelf.updated[n] is not None, shelf.updated[n] or "", shelf.titles[n]))
        return [AnswerStory.from_story(shelf[n]) for n in reversed(order)]

    def _find(self, title: str) -> int | None:
        key = title.strip()
        found = self._by_key.get(key.casefold())
        return found if found is not None else self._by_key.get(key)

    def ask(self, question: str) -> Answer:
        retrieval = self.retrieve(question)
        # A question about two stories is answered part by part: each part that passes the abstention
        # check on its own adds its best story, with bullets ranked for that part.
        retrievals = [retrieval] + [self.retrieve(part) for part in question_parts(retrieval.question)]
        shown: dict[int, Candidate] = {}
        for found in retrievals:
            if found.best and should_answer(found.best.evidence):
                shown.setdefault(found.best.story, found.best)
        if not shown:
            titles = [self._stories.titles[story] for story, _ in retrieval.routed[:SUGGESTIONS]]
            return Answer(question=retrieval.question, answered=False, suggestions=titles)
        stories = [self._answer_story(c) for c in list(shown.values())[:MAX_STORIES]]
        return Answer(question=retrieval.question, answered=True, stories=stories)

    def retrieve(self, question: str) -> Retrieval:
        text = clean_question(question)
        tokens = tokenize_query(text)
        with self.lexical.matching(tokens) as lexical:
            # A focus differs from the question only when it names a story's title words, and then that story
            # nearly always leads on BM25 too: guessing it first lets one encoder call embed both texts.
            guess = self._focus(text, int(lexical.top(1)[0])) if len(lexical.rows) else text
            vectors = self.embedder.encode([text] if guess == text else [text, guess])
            query = vectors[0]
            routed = self._route(query, lexical)
        if not routed:
            return Retrieval(text, [], None)
        story, score = routed[0]
        focus = focus_of(text, self._stories.titles[story])
        focus_vector = query if focus == text else vectors[1] if focus == guess else self.embedder.encode([focus])[0]
        return Retrieval(text, routed, self._candidate(story, score, query, tokens, focus, focus_vector))

    def _focus(self, text: str, row: int) -> str:
        return focus_of(text, self._stories.titles[int(self.generation.items["story"][row])])

    def _route(self, query: np.ndarray, lexical: Matches) -> list[tuple[int, float]]:
        """Candidate stories from both searches, scored as stories, best first."""
        generation = self.generation
        _, ids = generation.dense.search(query[None, :], min(CANDIDATES, generation.dense.ntotal))
        dense_rows = generation.rows_of_ids(ids[0][ids[0] >= 0])
        peak = lexical.peak or 1.0
        scored = []
        for story in np.unique(generation.items["story"][np.concatenate([dense_rows, lexical.top(CANDIDATES)])]).tolist():
            rows = generation.story_rows(story)
            cosine = float((self._vectors[rows] @ query).max())
            scored.append((story, cosine + STORY_LEXICAL_WEIGHT * float(lexical.scores[rows].max()) / peak))
        return sorted(scored, key=lambda pair: pair[1], reverse=True)

    def _candidate(
        self, story: int, score: float, query: np.ndarray, tokens: list[str], focus: str, focus_vector: np.ndarray
    ) -> Candidate:
        """Rank one story's bullets against the question and its focus, and gather the evidence."""
        span = self.generation.story_rows(story)
        facts = span.start + np.flatnonzero(self.generation.items["kind"][span] == FACT)
        vectors = self._vectors[facts]
        query_cosines, focus_cosines = vectors @ query, vectors @ focus_vector
        focus_lexical = self.lexical.scores_in(tokenize_query(focus), span)[facts - span.start]
        scores = ((1 - FOCUS_WEIGHT) * query_cosines + FOCUS_WEIGHT * focus_cosines
                  + BULLET_LEXICAL_WEIGHT * focus_lexical / (float(focus_lexical.max()) or 1.0))
        order = np.argsort(-scores)
        evidence = Evidence(bullet_score=float(scores[order[0]]), coverage=self.lexical.coverage(tokens, span))
        return Candidate(story, score, facts[order], scores[order], evidence)

    def _answer_story(self, candidate: Candidate) -> AnswerStory:
        """The story's best bullets: the first, and up to two more that score close to it."""
        story: Story = self._stories[candidate.story]
        top = candidate.fact_scores[0]
        answer_facts = [
            answer_fact(story, int(self.generation.items["position"][row]) + 1, round(float(score), 4))
            for row, score in zip(candidate.facts[:MAX_FACTS], candidate.fact_scores[:MAX_FACTS], strict=False)
            if score >= top - FACT_MARGIN
        ]
        return AnswerStory.from_story(story, answer_facts, score=round(candidate.score, 4))


def load(
    out: Path, *, embedder: Embedder | None = None, model: str | None = None, encoder_dir: Path | None = None
) -> KnowledgeBase:
    """Load the current index at `out`; the embedder must be the model it was built with."""
    name = embedder.name if embedder else (model or DEFAULT_MODEL)
    generation = read_generation(out, model=name)
    # One question is answered at a time per thread; FAISS's OpenMP threads only fight the other askers.
    faiss.omp_set_num_threads(1)
    return KnowledgeBase(generation, embedder or embedder_for(name, out, encoder_dir))
