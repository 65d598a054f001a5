"""Build the index incrementally: embed only what changed since the last build.

Embedding is the slow part (about 200 sentences a second on two cores), so a story whose content hash is
unchanged keeps its vectors from the previous generation, and a build with nothing changed writes nothing.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .corpus import file_stats, read_corpus, story_file_names
from .embedder import Embedder, embedder_for, encoder_identity
from .errors import IndexFormatError, Problem, StoryFileError
from .lexical import build_lexical
from .models import Story
from .settings import DEFAULT_MODEL
from .store import (
    FACT,
    ITEM_DTYPE,
    NARRATIVE,
    Generation,
    build_lock,
    item_id,
    read_generation,
    record_stats,
    unchanged_counts,
    write_generation,
)


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
    # The story files as this build found them before reading any (`corpus.stories_signature`): a file changed
    # after that differs from these, so whoever watches the folder knows to build again.
    file_stats: dict[str, list[int]] = field(default_factory=dict)

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
    # What the index records and compares: the model and its encoder variant, so another variant rebuilds it.
    identity = embedder.identity if embedder else encoder_identity(model)
    names = story_file_names(paths)
    stats = file_stats(names)
    # Nothing touched since the last clean build: no parsing, no loading, and no lock either, since nothing
    # will be written (so an up-to-date index on a read-only disk loads).
    if counts := unchanged_counts(out, stats, identity):
        return _unchanged(out, counts, stats, started)
    with build_lock(out):
        if counts := unchanged_counts(out, stats, identity):  # another build finished meanwhile
            return _unchanged(out, counts, stats, started)
        previous = _current_generation(out, identity)

        corpus = read_corpus([Path(name) for name in names])
        if corpus.errors and not skip_invalid:
            raise StoryFileError(corpus.errors)
        if not corpus.stories:
            where = ", ".join(str(p) for p in paths)
            raise StoryFileError(corpus.errors or [Problem(Path(where), 0, "no story files (.txt or .json) found")])
        stories = sorted(corpus.stories, key=lambda s: s.id)
        report = BuildReport(out, problems=corpus.problems, file_stats=stats)
        old_hashes = previous.content_hashes() if previous else {}
        new_hashes = {s.id: s.content_hash() for s in stories}
        old_shelf = previous.stories if previous else None
        report.added = [s.title for s in stories if s.id not in old_hashes]
        report.updated = [s.title for s in stories if old_hashes.get(s.id, new_hashes[s.id]) != new_hashes[s.id]]
        report.removed = [t for i, t in zip(old_shelf.ids, old_shelf.titles, strict=True) if i not in new_hashes] if old_shelf else []
        items, texts, lexical_texts = index_items(stories)
        _count(report, stories, items)

        same_files = old_shelf and dict(zip(old_shelf.ids, old_shelf.source_files, strict=True)) == {s.id: s.source_file for s in stories}
        if same_files and old_hashes == new_hashes:
            if not corpus.errors:
                record_stats(out, stats)
            report.changed = False
            report.seconds = time.perf_counter() - started
            return report

        vectors, report.embedded, report.reused, identity = _vectors(
            previous, stories, new_hashes, items, texts, identity,
            lambda: embedder or embedder_for(model, out, encoder_dir), progress,
        )
        write_generation(out, model=identity, stories=stories, items=items, vectors=vectors, lexical=build_lexical(lexical_texts))
        if not corpus.errors:
            record_stats(out, stats)
    report.seconds = time.perf_counter() - started
    return report


def _vectors(previous, stories, new_hashes, items, texts, identity, get_embedder, progress) -> tuple[np.ndarray, int, int, str]:
    """Vectors for every item: reused from the previous generation for unchanged stories, else embedded; and the
    identity of the encoder that made them all."""
    reused_rows, old_rows = _reusable_rows(previous, stories, new_hashes, items) if previous else (np.array([], int), None)
    to_embed = np.setdiff1d(np.arange(len(items)), reused_rows)
    encoder = get_embedder() if len(to_embed) else None
    if encoder is not None and encoder.identity != identity:
        # Not the encoder expected (torch, when the ONNX export failed): its vectors are never mixed with another's.
        reused_rows, old_rows, to_embed, identity = np.array([], int), None, np.arange(len(items)), encoder.identity
    embedded = encoder.encode([texts[row] for row in to_embed], progress=progress) if encoder is not None else None
    dimension = embedded.shape[1] if embedded is not None else previous.vectors.shape[1]
    vectors = np.zeros((len(items), dimension), dtype=np.float32)
    if len(reused_rows):
        vectors[reused_rows] = previous.vectors[old_rows]
    if embedded is not None:
        vectors[to_embed] = embedded
    return vectors, len(to_embed), len(reused_rows), identity


def _current_generation(out: Path, identity: str) -> Generation | None:
    """The current generation if its vectors can be reused; a damaged or foreign one is rebuilt over.

    Loaded whole, not just its manifest: trusting a manifest beside a truncated dense.faiss would report
    "up to date" on every build and the index would never load again. The build then reuses this one load.
    (The no-op check before it, `unchanged_counts`, trusts only files whose sizes and times it recorded.)
    """
    try:
        return read_generation(out, model=identity)
    except (IndexFormatError, OSError, ValueError):
        return None


def _unchanged(out: Path, counts: dict, stats: dict[str, list[int]], started: float) -> BuildReport:
    return BuildReport(out, stories=counts["stories"], facts=counts["facts"], narratives=counts["narratives"],
                       changed=False, seconds=time.perf_counter() - started, file_stats=stats)


def _reusable_rows(previous: Generation, stories: list[Story], new_hashes: dict[str, str], items: np.ndarray):
    """Rows of the new build whose vectors the previous generation holds (unchanged stories), and their old rows."""
    old_hashes = previous.content_hashes()
    unchanged = np.array([old_hashes.get(s.id) == new_hashes[s.id] for s in stories], dtype=bool)
    rows = np.flatnonzero(unchanged[items["story"]])
    old_rows = previous.rows_of_ids(items["id"][rows])
    present = previous.items["id"][old_rows] == items["id"][rows]
    return rows[present], old_rows[present]


def _count(report: BuildReport, stories: list[Story], items: np.ndarray) -> None:
    report.stories = len(stories)
    report.facts = int((items["kind"] == FACT).sum())
    report.narratives = int((items["kind"] == NARRATIVE).sum())
