"""Measure answer quality on the labelled set, in three corpora, split by story.

    results = evaluate(Path("tests/eval"), Path("seeds"))   # {corpus: [Outcome, ...]}
    print(tables(results))

The corpora are what a community meets: `seed` (the shipped seeds alone, the default set-up), `eval`
(every evaluation story) and `distractors` (the evaluation stories plus generated fictional rivals).
Each question is asked once per corpus; figures are then counted per split. The seed corpus is asked
only the questions about its stories and the off-topic ones: nothing else is in it to find.
"""

import dataclasses
import json
import random
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..builder import build
from ..embedder import ENCODER_VARIANT, Embedder, embedder_for
from ..judgement import Judgement
from ..retrieval import KnowledgeBase, load
from ..settings import DEFAULT_MODEL
from .data import DEV, TEST, LabelledQuestion, LabelledSet, read_labelled_set
from .distractors import write_distractors
from .scoring import METRICS, Outcome, counts, describe_miss, outcome_of

CORPORA = ("seed", "eval", "distractors")
DISTRACTORS = 1000
FIGURES_FILE = "figures.json"
FOLLOWUPS_WITH, FOLLOWUPS_WITHOUT = "follow-ups with context", "follow-ups without"  # scored in the eval corpus
ANOTHER_CONVERSATION = "in another story's conversation"  # scored in the eval corpus too
CONVERSATION_SEED = 5  # which other story's conversation each question is asked in (fixed)

__all__ = [
    "ANOTHER_CONVERSATION", "CORPORA", "DISTRACTORS", "FIGURES_FILE", "FOLLOWUPS_WITH", "FOLLOWUPS_WITHOUT", "LabelledQuestion", "LabelledSet",
    "METRICS", "Outcome", "ask_all", "ask_followups", "ask_in_another_conversation", "build_corpus", "counts", "describe_miss", "evaluate",
    "evaluated_words", "figures", "in_other_conversations", "questions_for", "read_labelled_set", "tables", "write_figures",
]


def build_corpus(
    name: str, eval_dir: Path, seeds_dir: Path, out: Path, embedder: Embedder, distractors: int = DISTRACTORS,
) -> KnowledgeBase:
    """Build one of the three corpora at `out` (generated distractors are written beside it)."""
    paths = {"seed": [seeds_dir], "eval": [eval_dir / "stories"]}.get(name)
    if paths is None:
        write_distractors(out.parent / "distractors", distractors, avoid=evaluated_words(eval_dir))
        paths = [eval_dir / "stories", out.parent / "distractors"]
    build(paths, out, embedder=embedder)
    return load(out, embedder=embedder)


def evaluated_words(eval_dir: Path) -> set[str]:
    """Every word of the evaluation stories, lower-case: no generated distractor place is called by one."""
    return {word.lower() for path in (eval_dir / "stories").iterdir() for word in re.findall(r"\w+", path.read_text(encoding="utf-8"))}


def questions_for(corpus: str, labelled: LabelledSet, seed_titles: set[str]) -> list[LabelledQuestion]:
    if corpus != "seed":
        return labelled.questions
    return [q for q in labelled.questions if (q.stories and set(q.stories) <= seed_titles) or q.kind == "offtopic"]


def ask_all(kb: KnowledgeBase, questions: Iterable[LabelledQuestion], labelled: LabelledSet) -> list[Outcome]:
    return [outcome_of(q, labelled.split_of(q), kb.ask(q.text)) for q in questions]


def ask_followups(kb: KnowledgeBase, labelled: LabelledSet) -> dict[str, list[Outcome]]:
    """Each follow-up asked after its first question, with that answer's story as context (as a reply to the
    bot's answer carries it) and without any."""
    with_context, without = [], []
    for pair in labelled.followups:
        first = kb.ask(pair.first)
        about = first.stories[0].id if first.answered else None
        split = labelled.split_of(pair.followup)
        with_context.append(outcome_of(pair.followup, split, kb.ask(pair.followup.text, about=about)))
        without.append(outcome_of(pair.followup, split, kb.ask(pair.followup.text)))
    return {FOLLOWUPS_WITH: with_context, FOLLOWUPS_WITHOUT: without}


def in_other_conversations(labelled: LabelledSet, titles: Iterable[str]) -> list[tuple[LabelledQuestion, str]]:
    """(question, title of the story whose conversation it is asked in): each question about one story, and each
    off-topic one, with another story of its split (a seeded choice), as when a member turns to something else
    mid-thread."""
    rng = random.Random(CONVERSATION_SEED)
    indexed = set(titles)
    pairs = []
    for question in labelled.questions:
        if question.kind != "two_story":
            others = [title for title in labelled.story_titles(labelled.split_of(question)) if title not in question.stories and title in indexed]
            pairs.append((question, rng.choice(others)))
    return pairs


def ask_in_another_conversation(kb: KnowledgeBase, labelled: LabelledSet) -> list[Outcome]:
    """Each of `in_other_conversations` asked as a reply in that conversation: its story must not capture a question
    that is not about it."""
    return [outcome_of(question, labelled.split_of(question), kb.ask(question.text, about=title))
            for question, title in in_other_conversations(labelled, kb.titles())]


def evaluate(
    eval_dir: Path, seeds_dir: Path, corpora: Iterable[str] = CORPORA, *, distractors: int = DISTRACTORS,
    embedder: Embedder | None = None, model: str | None = None, encoder_dir: Path | None = None, answer_everything: bool = False,
    encoder: str = ENCODER_VARIANT, judgement: Judgement | None = None,
) -> dict[str, list[Outcome]]:
    """Every labelled question asked of each corpus; `answer_everything` lifts the answer-or-refuse decision, to
    measure routing and ranking alone; `judgement` replaces the shipped answer models."""
    labelled = read_labelled_set(eval_dir, seeds_dir)
    results, followups = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for corpus in corpora:
            out = Path(scratch) / corpus / "index"
            embedder = embedder or embedder_for(model or DEFAULT_MODEL, out, encoder_dir, encoder)
            kb = build_corpus(corpus, eval_dir, seeds_dir, out, embedder, distractors)
            if judgement is not None:
                kb.judgement = judgement
            if answer_everything:
                kb.judgement = dataclasses.replace(kb.judgement, answer_threshold=0.0, sides_answer_threshold=0.0)
            results[corpus] = ask_all(kb, questions_for(corpus, labelled, set(kb.titles())), labelled)
            if corpus == "eval":
                followups = ask_followups(kb, labelled) | {ANOTHER_CONVERSATION: ask_in_another_conversation(kb, labelled)}
    return results | followups


def figures(results: dict[str, list[Outcome]]) -> dict[str, dict[str, dict[str, list[int]]]]:
    """{corpus: {split: {metric: [count, out of]}}}: what the README shows and the quality tests read."""
    return {
        corpus: {split: {name: list(pair) for name, pair in counts([o for o in outcomes if o.split == split]).items()}
                 for split in (DEV, TEST)}
        for corpus, outcomes in results.items()
    }


def tables(results: dict[str, list[Outcome]], splits: Iterable[str] = (DEV, TEST)) -> str:
    """One markdown table per split: a row per metric, a column per corpus, each cell `rate (n/N)`."""
    numbers = figures(results)
    blocks = []
    for split in splits:
        header = [f"split: {split}", "", "| metric | " + " | ".join(numbers) + " |", "|---|" + "---|" * len(numbers)]
        rows = [f"| {name} | " + " | ".join(_cell(*numbers[corpus][split][name]) for corpus in numbers) + " |" for name in METRICS]
        blocks.append("\n".join(header + rows))
    return "\n\n".join(blocks)


def _cell(count: int, total: int) -> str:
    return f"{count / total:.3f} ({count}/{total})" if total else "–"


def write_figures(results: dict[str, list[Outcome]], path: Path) -> None:
    """Save the counts of the corpora just measured; those of corpora not measured this time are kept."""
    kept = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    path.write_text(json.dumps(kept | figures(results), indent=1) + "\n", encoding="utf-8")
