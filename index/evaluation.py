"""Measure answer quality on a labelled set, and fit the answer-or-abstain decision on it.

The set (tests/eval) has fictional stories plus the seed, and questions labelled with the story and
bullet that answer them, or with no story at all. Its dev split is for calibration and tuning; the
figures the README reports come from the test split, which nothing is fitted on.
"""

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .abstention import FEATURES, WEIGHTS_FILE, should_answer
from .builder import build
from .embedder import Embedder, embedder_for
from .retrieval import KnowledgeBase, load
from .settings import DEFAULT_MODEL


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    story: str | None  # expected title; None when no story answers
    facts: tuple[int, ...]  # acceptable bullet positions, the labelled one first
    split: str


def read_questions(eval_dir: Path) -> list[LabelledQuestion]:
    questions = []
    with open(eval_dir / "questions.jsonl", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                facts = (row["fact"], *row.get("also", [])) if row["fact"] is not None else ()
                questions.append(LabelledQuestion(row["q"], row["story"], tuple(facts), row["split"]))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{eval_dir / 'questions.jsonl'}:{number}: {exc}") from exc
    return questions


def read_multi_story_questions(eval_dir: Path) -> list[tuple[str, set[str], str]]:
    """Questions about two stories at once: (question, the titles it needs, split)."""
    path = eval_dir / "multi_story.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["q"], set(row["stories"]), row["split"]) for row in rows]


@dataclass
class EvaluationReport:
    split: str
    answerable: int = 0
    unanswerable: int = 0
    top1: int = 0
    top3: int = 0
    routed: int = 0
    refused_unanswerable: int = 0
    refused_answerable: int = 0
    multi_story: int = 0
    multi_story_both_shown: int = 0
    misses: list[str] = field(default_factory=list)

    def rates(self) -> dict[str, float]:
        a, u = max(self.answerable, 1), max(self.unanswerable, 1)
        return {
            "top1_bullet": self.top1 / a,
            "top3_bullet": self.top3 / a,
            "story_routing": self.routed / a,
            "unanswerable_refused": self.refused_unanswerable / u,
            "answerable_refused": self.refused_answerable / a,
            "two_story_both_shown": self.multi_story_both_shown / max(self.multi_story, 1),
        }

    def table(self) -> str:
        lines = [f"split: {self.split} ({self.answerable} answerable, {self.unanswerable} unanswerable, "
                 f"{self.multi_story} two-story questions)",
                 "| metric | value |", "| --- | --- |"]
        lines += [f"| {name} | {value:.3f} |" for name, value in self.rates().items()]
        return "\n".join(lines)


def build_eval_index(eval_dir: Path, out: Path, embedder: Embedder) -> KnowledgeBase:
    build([eval_dir / "stories"], out, embedder=embedder)
    return load(out, embedder=embedder)


def evaluate_kb(
    kb: KnowledgeBase, questions: list[LabelledQuestion], split: str = "all",
    multi_story: list[tuple[str, set[str], str]] = (),
) -> EvaluationReport:
    report = EvaluationReport(split)
    for question, titles, question_split in multi_story:
        if split in ("all", question_split):
            report.multi_story += 1
            shown = {story.title for story in kb.ask(question).stories}
            report.multi_story_both_shown += titles <= shown
            if not titles <= shown:
                report.misses.append(f"two stories: {question!r}: got {sorted(shown)}")
    for item in questions:
        if split != "all" and item.split != split:
            continue
        answer = kb.ask(item.question)
        if item.story is None:
            report.unanswerable += 1
            report.refused_unanswerable += not answer.answered
            continue
        report.answerable += 1
        if not answer.answered:
            report.refused_answerable += 1
            report.misses.append(f"refused: {item.question!r}")
            continue
        shown = [(story.title, fact.index) for story in answer.stories for fact in story.facts]
        expected = {(item.story, fact) for fact in item.facts}
        report.routed += answer.stories[0].title == item.story
        report.top1 += shown[0] in expected
        report.top3 += any(hit in expected for hit in shown[:3])
        if shown[0] not in expected:
            report.misses.append(f"{item.question!r}: expected {item.story[:40]!r} #{item.facts[0]}, got {shown[:3]}")
    return report


def evaluate(
    eval_dir: Path, split: str = "test", model: str | None = None, embedder: Embedder | None = None,
    encoder_dir: Path | None = None,
) -> EvaluationReport:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "index"
        kb = build_eval_index(eval_dir, out, embedder or embedder_for(model or DEFAULT_MODEL, out, encoder_dir))
        return evaluate_kb(kb, read_questions(eval_dir), split, read_multi_story_questions(eval_dir))


def calibrate(eval_dir: Path, model: str | None = None, encoder_dir: Path | None = None, max_wrong_refusals: float = 0.015) -> str:
    """Fit a logistic model of 'an answer exists' on the dev split and write abstention.json.

    The threshold is the highest probability cut that still refuses at most `max_wrong_refusals` of the
    answerable dev questions: refusing a good question is the costlier mistake in a community bot.
    """
    from sklearn.linear_model import LogisticRegression

    questions = [q for q in read_questions(eval_dir) if q.split == "dev"]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "index"
        embedder = embedder_for(model or DEFAULT_MODEL, out, encoder_dir)
        kb = build_eval_index(eval_dir, out, embedder)
        rows = [(kb.retrieve(q.question).best.evidence, q.story is not None) for q in questions]
    features = np.array([evidence.vector() for evidence, _ in rows])
    labels = np.array([answerable for _, answerable in rows])
    fitted = LogisticRegression(C=1.0, max_iter=1000).fit(features, labels)
    probabilities = fitted.predict_proba(features)[:, 1]
    answerable_p = np.sort(probabilities[labels])
    threshold = float(answerable_p[int(np.floor(max_wrong_refusals * len(answerable_p)))]) - 1e-6
    weights = {
        "intercept": float(fitted.intercept_[0]),
        "coefficients": dict(zip(FEATURES, map(float, fitted.coef_[0]), strict=False)),
        "threshold": threshold,
        "fitted_on": f"{eval_dir}/questions.jsonl split=dev ({len(questions)} questions)",
        "model": embedder.name,
    }
    WEIGHTS_FILE.write_text(json.dumps(weights, indent=2) + "\n", encoding="utf-8")
    refused = sum(not should_answer(e, weights) for e, answerable in rows if not answerable)
    wrongly = sum(not should_answer(e, weights) for e, answerable in rows if answerable)
    return (f"wrote {WEIGHTS_FILE}: threshold {threshold:.3f}; on dev: unanswerable refused "
            f"{refused}/{int((~labels).sum())}, answerable refused {wrongly}/{int(labels.sum())}")
