"""The labelled evaluation set: its questions, and the split of its stories into dev and test.

`tests/eval/questions/*.jsonl` holds one question a line (see tests/eval/README.md for the fields).
The split is by *story*: every question about a story falls on that story's side, so the figures for
the test side come from stories that nothing was ever tuned on. A story's side is a seeded hash of its
title (stable when stories are added, about half each side); the shipped seeds are always test stories,
because they are what a newcomer meets first.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..corpus import read_corpus

SPLIT_SEED = "storybot-eval-split-1"
DEV, TEST = "dev", "test"
ANSWER_KINDS = ("answerable", "narrative", "two_story")  # a member should get an answer
REFUSE_KINDS = ("unanswerable", "false_premise", "offtopic")  # "no story covers that" is the right reply
KINDS = ANSWER_KINDS + REFUSE_KINDS


def hashed_split(key: str) -> str:
    return DEV if hashlib.sha256(f"{SPLIT_SEED}:{key}".encode()).digest()[0] % 2 == 0 else TEST


@dataclass(frozen=True)
class LabelledQuestion:
    text: str
    kind: str
    stories: tuple[str, ...]  # the story (two for `two_story`) it is about; empty for `offtopic`
    facts: tuple[int, ...]  # bullets that answer it, the labelled one first; `answerable` only
    writer: str
    where: str  # file:line, for messages

    @property
    def should_answer(self) -> bool:
        return self.kind in ANSWER_KINDS

    @property
    def file(self) -> Path:
        """The questions file it was read from (the file of `where`)."""
        return Path(self.where.rsplit(":", 1)[0])


@dataclass(frozen=True)
class FollowUp:
    """A first question, then a follow-up that only makes sense in its context (`followups/*.jsonl`)."""

    first: str
    followup: LabelledQuestion


@dataclass(frozen=True)
class LabelledSet:
    questions: list[LabelledQuestion]
    splits: dict[str, str]  # story title -> dev | test
    followups: list[FollowUp] = field(default_factory=list)

    def split_of(self, question: LabelledQuestion) -> str:
        """A question is dev only when every story it is about is a dev story: one that straddles the split (a
        two-story question about a dev and a test story) counts as test, so nothing about a test story is ever
        looked at while choosing."""
        if not question.stories:
            return hashed_split(question.text)
        return DEV if all(self.splits[title] == DEV for title in question.stories) else TEST

    def story_titles(self, split: str) -> list[str]:
        return sorted(title for title, side in self.splits.items() if side == split)


def read_labelled_set(eval_dir: Path, seeds_dir: Path | None = None) -> LabelledSet:
    """Every question file under `eval_dir/questions`, checked against the stories it names."""
    stories = read_corpus([eval_dir / "stories"])
    if stories.errors:
        raise ValueError("; ".join(str(problem) for problem in stories.errors))
    seed_titles = {story.title for story in read_corpus([seeds_dir]).stories} if seeds_dir else set()
    facts_of = {story.title: len(story.facts) for story in stories.stories}
    splits = {title: TEST if title in seed_titles else hashed_split(title) for title in facts_of}
    questions = [_question(row, where, facts_of) for row, where in _rows(eval_dir / "questions")]
    followups = [_followup(row, where, facts_of) for row, where in _rows(eval_dir / "followups")]
    return LabelledSet(questions, splits, followups)


def _rows(folder: Path):
    """(row, "file:line") for every JSON line of every .jsonl file in `folder` (none when it is missing)."""
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    yield json.loads(line), f"{path}:{number}"
                except ValueError as exc:
                    raise ValueError(f"{path}:{number}: not JSON ({exc})") from exc


def _question(row: dict, where: str, facts_of: dict[str, int]) -> LabelledQuestion:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: a question is a JSON object, not {type(row).__name__}")
    kind = row.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    text = row.get("q")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: q must be the question's text")
    titles = tuple(row.get("stories") or ()) if kind == "two_story" else (() if kind == "offtopic" else (row.get("story"),))
    for title in titles:
        if not isinstance(title, str) or title not in facts_of:
            raise ValueError(f"{where}: no story titled {title!r} in the evaluation stories")
    facts = (row.get("fact"), *row.get("also", ())) if kind == "answerable" else ()
    if kind == "answerable" and not all(type(f) is int and 1 <= f <= facts_of[titles[0]] for f in facts):
        raise ValueError(f"{where}: bullets {facts} are not all whole numbers between 1 and {facts_of[titles[0]]}")
    if kind == "two_story" and len(set(titles)) != 2:
        raise ValueError(f"{where}: a two_story question names two different stories")
    return LabelledQuestion(text, kind, titles, facts, str(row.get("writer", "")), where)


def _followup(row: dict, where: str, facts_of: dict[str, int]) -> FollowUp:
    first = row.get("first") if isinstance(row, dict) else None
    if not isinstance(first, str) or not first.strip():
        raise ValueError(f"{where}: first must be the first question's text")
    return FollowUp(first, _question({**row, "q": row.get("followup")}, where, facts_of))
