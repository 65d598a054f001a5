"""Build the index incrementally: embed only what changed since the last build.

Embedding is the slow part (about 200 sentences a second on two cores), so a story whose content hash is
unchanged keeps its vectors from the previous generation, and a build with nothing changed writes nothing.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .corpus import read_corpus
from .embedder import Embedder, embedder_for
from .errors import IndexFormatError, Problem, StoryFileError
from .lexical import build_lexical
from .models import Story
from .settings import DEFAULT_MODEL
from .store import FACT, ITEM_DTYPE, NARRATIVE, Generation, build_lock, item_id, read_generation, write_generation


@dataclass
class BuildReport:
    out: Path
    stories: int = 0
    facts: int = 0
    narratives: int = 0
    embedded: int = 0
    reused: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: bool = True
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        if not self.changed:
            return f"index at {self.out} is up to date: {self.stories} stories, nothing re-embedded ({self.seconds:.2f}s)"
        return (
            f"indexed {self.stories} stories ({len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed): {self.facts} facts, {self.narratives} narratives; "
            f"{self.embedded} embedded, {self.reused} reused; {self.seconds:.2f}s -> {self.out}"
        )


def index_items(stories: list[Story]) -> tuple[np.ndarray, list[str], list[str]]:
    """Every fact and narrative of every story: item rows, the texts to embed, and the texts for BM25.

    BM25 also sees the story's title, so a question that names the story's subject finds it even when
    no bullet repeats the name; the embedding sees the item alone, so bullets of one story stay apart.
    """
    rows, texts = [], []
    for number, story in enumerate(stories):
        for position, fact in enumerate(story.facts):
            rows.append((item_id(story.id, FACT, position), number, FACT, position))
            texts.append(fact.text)
        for position, narrative in enumerate(story.narratives):
            rows.append((item_id(story.id, NARRATIVE, position), number, NARRATIVE, position))
            texts.append(narrative.text)
    titles = [stories[story].title for _, story, _, _ in rows]
    return np.array(rows, dtype=ITEM_DTYPE), texts, [f"{title}\n{text}" for title, text in zip(titles, texts, strict=False)]


def build(
    paths: list[Path], out: Path, *, embedder: Embedder | None = None, model: str | None = None,
    encoder_dir: Path | None = None, skip_invalid: bool = False, progress: bool = False,
) -> BuildReport:
    """Build or update the index at `out` from story files under `paths`.

    Raises `StoryFileError` listing every invalid file unless `skip_invalid`; either way the index
    already at `out` is left exactly as it was until a complete new one replaces it.
    """
    started = time.perf_counter()
    model = embedder.name if embedder else (model or DEFAULT_MODEL)
    corpus = read_corpus(paths)
    if corpus.errors and not skip_invalid:
        raise StoryFileError(corpus.errors)
    if not corpus.stories:
        where = ", ".join(str(p) for p in paths)
        raise StoryFileError(corpus.errors or [Problem(Path(where), 0, "no story files (.txt or .json) found")])
    stories = sorted(corpus.stories, key=lambda s: s.id)
    report = BuildReport(out, problems=corpus.problems)

    with build_lock(out):
        previous = _usable_previous(out, model)
        old_hashes = previous.content_hashes() if previous else {}
        new_hashes = {s.id: s.content_hash() for s in stories}
        titles = {s.id: s.title for s in stories}
        report.added = [titles[i] for i in new_hashes if i not in old_hashes]
        report.updated = [titles[i] for i in new_hashes if i in old_hashes and old_hashes[i] != new_hashes[i]]
        report.removed = [s.title for s in (previous.stories if previous else []) if s.id not in new_hashes]
        items, texts, lexical_texts = index_items(stories)
        _count(report, stories, items)
        same_files = previous and {s.id: s.source_file for s in previous.stories} == {s.id: s.source_file for s in stories}
        if same_files and old_hashes == new_hashes:
            report.changed = False
            report.seconds = time.perf_counter() - started
            return report

        vectors = np.zeros((len(items), previous.dense.d if previous else 0), dtype=np.float32)
        reusable = _reusable_rows(previous, stories, new_hashes, items) if previous else {}
        to_embed = [row for row in range(len(items)) if row not in reusable]
        embedded = np.zeros((0, 0), dtype=np.float32)
        if to_embed:
            embedder = embedder or embedder_for(model, out, encoder_dir)
            embedded = embedder.encode([texts[row] for row in to_embed], progress=progress)
            if vectors.shape[1] != embedded.shape[1]:
                vectors = np.zeros((len(items), embedded.shape[1]), dtype=np.float32)
        for row, old_row in reusable.items():
            vectors[row] = previous.vectors[old_row]
        if to_embed:
            vectors[to_embed] = embedded
        report.embedded, report.reused = len(to_embed), len(reusable)

        write_generation(out, model=model, stories=stories, items=items, vectors=vectors, lexical=build_lexical(lexical_texts))
    report.seconds = time.perf_counter() - started
    return report


def _usable_previous(out: Path, model: str) -> Generation | None:
    """The current generation if its vectors can be reused; a damaged or foreign one is rebuilt over."""
    try:
        return read_generation(out, model=model)
    except IndexFormatError:
        return None


def _reusable_rows(previous: Generation, stories: list[Story], new_hashes: dict[str, str], items: np.ndarray) -> dict[int, int]:
    """Rows of the new build whose vectors the previous generation already holds (unchanged stories)."""
    old_hashes = previous.content_hashes()
    unchanged = {n for n, s in enumerate(stories) if old_hashes.get(s.id) == new_hashes[s.id]}
    old_rows = {int(item_id): row for row, item_id in enumerate(previous.items["id"])}
    return {
        row: old_rows[int(item["id"])]
        for row, item in enumerate(items)
        if int(item["story"]) in unchanged and int(item["id"]) in old_rows
    }


def _count(report: BuildReport, stories: list[Story], items: np.ndarray) -> None:
    report.stories = len(stories)
    report.facts = int((items["kind"] == FACT).sum())
    report.narratives = int((items["kind"] == NARRATIVE).sum())
