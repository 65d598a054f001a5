"""The index on disk: immutable generations and one pointer to the current one.

    DIR/CURRENT          name of the generation in use (replaced atomically)
    DIR/gen-…/           manifest.json, and
        base/            items.npy, vectors.npy, dense.faiss, vocab.json, the word counts by row (term_*.npy) and
                         by word (postings_*.npy), and the stories (stories.jsonl, catalog.json, story_offsets.npy:
                         see shelf.py)
        delta/           (not always) the same for the stories added or changed since the base was written, with
                         words.json (words beyond the base's vocabulary) and hidden.npy (base stories it replaces
                         or removes)
    DIR/.building-…/     a build in progress; never read, removed by the next build
    DIR/story_files.jsonl, DIR/listing-…   the story files the current generation was built from (listing.py)

A build writes a whole new generation beside the old one and only then swaps CURRENT, so a crash, kill
or error at any moment leaves the previous index exactly as it was, and a reader never sees half a build.
A change of a few stories writes only a new delta: the new generation's base/ holds hard links to the
previous one's files (the same files; no file a generation holds is ever written again), so it costs the
changed stories, not the library. Past a share of the base (builder.DELTA_SHARE), a build writes a new base.
"""

import bisect
import fcntl
import functools
import hashlib
import itertools
import json
import os
import re
import shutil
import tempfile
import time
import uuid
import weakref
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .corpus import StoryFolder, record_of_stats, record_signature
from .dense import build_dense, describe, searched, tune
from .errors import IndexFormatError, Problem
from .files import fsync_dir, write_atomically
from .lexical import Lexical, LexicalPart, Postings, TermCounts
from .listing import LISTING_NAME, Listing, prune_listings, read_patch
from .models import Story
from .shelf import CombinedShelf, ShelvedStory, StoryShelf, picked, write_shelf

# 3: titles kept without invisible characters, ids always derived from the title, facts numbered by their
# position. A version-2 generation may hold stories these rules refuse, so it is rebuilt from the files.
# 4: each item's word counts kept (terms.npz), so a build carries unchanged stories over without reading them.
# 5: a generation is a base (hard links to the previous generation's) and a small delta; BM25 scored when asked.
# 6: the stories' content hashes kept in each part's catalog, not in the manifest (which a change wrote whole).
FORMAT_VERSION = 6
CURRENT = "CURRENT"
STATS = "story_files.jsonl"  # the story files as the current generation saw them (see record_stats)
GENERATIONS_KEPT = 2  # the current one and the one before, so a reader mid-load is never pulled from under
BASE, DELTA = "base", "delta"

GENERATION_NAME = re.compile(r"gen-[0-9A-Za-z_-]+")  # what CURRENT may hold: a generation inside the folder
FACT, NARRATIVE = 0, 1
# One row per embedded text: which story, fact or narrative, and its position in the story (0-based).
# Rows are grouped by story, in story order, so a story's rows are one slice.
ITEM_DTYPE = np.dtype([("id", "<i8"), ("story", "<i4"), ("kind", "<i1"), ("position", "<i4")])


def item_id(story_id: str, kind: int, position: int) -> int:
    """A stable FAISS id: the same bullet of the same story keeps its id across rebuilds."""
    digest = hashlib.blake2b(f"{story_id}\0{kind}\0{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


class Part:
    """A base or a delta as written: its stories in id order, their rows (numbered by the part's own story
    numbers), vectors and word counts. Read only; kept open, so it stays readable after its files are pruned."""

    def __init__(self, path: Path, vocab: Mapping[str, int]):
        self.stories = StoryShelf(path)
        self.items = np.load(path / "items.npy")
        self.vectors = np.load(path / "vectors.npy", mmap_mode="r")
        self.terms = TermCounts.load(path, vocab)
        self.postings = Postings.load(path)
        if not (len(self.items) == len(self.vectors) == len(self.postings.lengths)):
            raise ValueError(f"{path} is inconsistent")
        self.starts = np.searchsorted(self.items["story"], np.arange(len(self.stories) + 1))
        self.total_length = float(np.sum(self.postings.lengths, dtype=np.float64))

    def rows_of(self, stories: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each of these stories' first row and the row after its last."""
        return self.starts[stories], self.starts[stories + 1]

    @functools.cached_property
    def kinds(self) -> np.ndarray:
        """How many facts and narratives it holds: counted once, and shared by every generation over it in the process."""
        return np.bincount(self.items["kind"], minlength=2)

    def kinds_of(self, stories: np.ndarray) -> np.ndarray:
        """How many facts and narratives these stories hold, from their rows alone."""
        return np.bincount(self.items["kind"][rows_between(*self.rows_of(stories))], minlength=2)


class Base(Part):
    """The large part, shared by hard links between generations: also its FAISS index and vocabulary."""

    def __init__(self, path: Path):
        words = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
        super().__init__(path, {word: number for number, word in enumerate(words)})
        self.dense = tune(faiss.read_index(str(path / "dense.faiss")))
        if self.dense.ntotal != len(self.items):
            raise ValueError(f"{path} is inconsistent")
        self.id_order = np.argsort(self.items["id"]).astype(np.int64)  # FAISS ids to rows, through sorted arrays
        self.sorted_ids = self.items["id"][self.id_order]


class Delta(Part):
    """The small part: stories added or changed since the base was written, and the base stories it hides."""

    def __init__(self, path: Path, base: Base):
        extra = json.loads((path / "words.json").read_text(encoding="utf-8"))
        self.words = extra  # words beyond the base's vocabulary, numbered after it
        vocab = dict(base.terms.vocab)  # a copy made in C; a ChainMap would be copied word by word in Python by each build
        vocab.update((word, len(base.terms.vocab) + n) for n, word in enumerate(extra))
        super().__init__(path, vocab)
        self.hidden = np.load(path / "hidden.npy")
        if len(self.hidden) and (self.hidden.min() < 0 or self.hidden.max() >= len(base.stories)):
            raise ValueError(f"{path} hides stories its base lacks")


# Bases loaded in this process, by what identifies their files: a build and the load after it reuse the base the
# library already holds instead of reading a million vectors' index again. Never changed once loaded.
_loaded_bases: "weakref.WeakValueDictionary[tuple, Base]" = weakref.WeakValueDictionary()


def _base(path: Path, name: str) -> Base:
    key = (name, *_files_identity(path))
    base = _loaded_bases.get(key)
    if base is None:
        base = _loaded_bases[key] = Base(path)
    return base


class Vectors:
    """A generation's vectors by its row numbers, read from its base and delta; only what is asked is read."""

    def __init__(self, base: np.ndarray, delta: np.ndarray, row_map: np.ndarray):
        self._base, self._delta, self._map, self._split = base, delta, row_map, len(base)
        self.shape = (len(row_map), base.shape[1])
        self.dtype = base.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        physical = self._map[rows]
        if np.ndim(physical) == 0:
            return self._base[physical] if physical < self._split else self._delta[physical - self._split]
        in_base = physical < self._split
        if in_base.all():
            return self._base[physical]
        out = np.empty((len(physical), self.shape[1]), dtype=self.dtype)
        out[in_base] = self._base[physical[in_base]]
        out[~in_base] = self._delta[physical[~in_base] - self._split]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[np.arange(len(self))] if dtype is None else self[np.arange(len(self))].astype(dtype)


class Dense:
    """The base's FAISS index without the ids the delta hides, and an exact index of the delta's vectors, searched
    as one: the base is never changed (loaded indexes keep answering as they were), and the delta is small."""

    def __init__(self, base: faiss.Index, hidden: np.ndarray, vectors: np.ndarray, ids: np.ndarray):
        self.base, self.d = base, base.d
        self._delta = faiss.IndexIDMap2(faiss.IndexFlatIP(base.d))
        if len(ids):
            self._delta.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))
        self.ntotal = base.ntotal - len(hidden) + self._delta.ntotal
        self._params = None
        if len(hidden):
            self._hidden = faiss.IDSelectorBatch(np.ascontiguousarray(hidden, dtype=np.int64))
            self._selector = faiss.IDSelectorNot(self._hidden)
            self._params = (faiss.SearchParametersIVF(sel=self._selector, nprobe=base.nprobe) if isinstance(base, faiss.IndexIVF)
                            else faiss.SearchParameters(sel=self._selector))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, ids = self.base.search(queries, k, params=self._params)
        if not self._delta.ntotal:
            return scores, ids
        more_scores, more_ids = self._delta.search(queries, min(k, self._delta.ntotal))
        scores, ids = np.concatenate([scores, more_scores], axis=1), np.concatenate([ids, more_ids], axis=1)
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, best, axis=1), np.take_along_axis(ids, best, axis=1)


@dataclass
class Generation:
    """One complete, immutable build: everything needed to answer questions.

    Its stories are numbered in id order and their rows grouped by story in that order, whether they come from
    the base or the delta: the numbering a build from scratch of the same stories gives."""

    path: Path
    manifest: dict
    stories: StoryShelf | CombinedShelf
    items: np.ndarray  # ITEM_DTYPE
    vectors: np.ndarray | Vectors  # float32, row i is items[i]; memory-mapped when loaded
    dense: faiss.Index | Dense
    lexical: Lexical
    base: Base
    delta: Delta | None = None
    # Where each story and row comes from: the part (0 base, 1 delta) and its number there; None without a delta.
    story_part: np.ndarray | None = None
    story_local: np.ndarray | None = None
    row_maps: tuple[np.ndarray, np.ndarray] | None = None  # base rows, delta rows -> rows here (-1: hidden)
    story_starts: np.ndarray | None = None  # each story's first row, and the row count last (found from `items` if None)

    def story_rows(self, story: int) -> slice:
        return slice(int(self._starts[story]), int(self._starts[story + 1]))

    def rows_of(self, stories: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each of these stories' first row and the row after its last."""
        return self._starts[stories], self._starts[stories + 1]

    def nearest_rows(self, query: np.ndarray, count: int) -> np.ndarray:
        """Rows of the `count` items whose vectors are nearest `query` (inner product), best first. An index with
        approximate distances is asked for more (`dense.searched`), re-ranked by their exact inner products with the
        stored vectors, which are memory-mapped already: exact ranking at no cost in memory."""
        count = min(count, self.dense.ntotal)
        approximate = self.dense.base if isinstance(self.dense, Dense) else self.dense  # the delta's own index is exact
        _, ids = self.dense.search(query[None, :], min(searched(approximate, count), self.dense.ntotal))
        rows = self.rows_of_ids(ids[0][ids[0] >= 0])
        if len(rows) > count:
            rows = rows[np.argsort(-(self.row_vectors[rows] @ query), kind="stable")[:count]]
        return rows

    def rows_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """Rows of FAISS ids, through sorted arrays: a dict of a million ints would cost 100 MB. An id this generation
        lacks gives a row holding another id."""
        base = self.base
        rows = base.id_order[np.minimum(np.searchsorted(base.sorted_ids, ids), len(base.id_order) - 1)] if len(base.items) else None
        if self.row_maps is None:
            return rows
        base_map, delta_map = self.row_maps
        found = np.full(len(ids), -1, dtype=np.int64) if rows is None else np.where(base.items["id"][rows] == ids, base_map[rows], -1)
        missing = np.flatnonzero(found < 0)  # not in the base, or hidden there (a changed story's bullet keeps its id)
        if len(missing) and len(self._delta_order):
            wanted = ids[missing]
            rows = self._delta_order[np.minimum(np.searchsorted(self._delta_ids, wanted), len(self._delta_order) - 1)]
            found[missing] = np.where(self.delta.items["id"][rows] == wanted, delta_map[rows], -1)
        return found

    def __post_init__(self) -> None:
        self._starts = self.story_starts if self.story_starts is not None else np.searchsorted(self.items["story"], np.arange(len(self.stories) + 1))
        if self.delta is not None:
            self._delta_order = np.argsort(self.delta.items["id"]).astype(np.int64)
            self._delta_ids = self.delta.items["id"][self._delta_order]
        # The vectors to compute with: a plain view of the memory map (no copy, no subclass overhead), or with a
        # delta the base's and delta's rows as one (`Vectors`).
        self.row_vectors = np.asarray(self.vectors) if isinstance(self.vectors, np.ndarray) else self.vectors

    def content_hashes(self) -> dict[str, str]:
        """Every story's content hash by id (from the catalog columns: no story is read)."""
        return dict(zip(self.stories.ids, self.stories.hashes, strict=True))

    def term_counts(self) -> TermCounts:
        """Every item's word counts, by this generation's rows (what a compacting build starts from)."""
        base = self.base.terms
        if self.delta is None:
            return TermCounts(np.asarray(base.rows), np.asarray(base.terms), np.asarray(base.counts), dict(base.vocab))
        base_map, delta_map = self.row_maps
        delta = self.delta.terms
        moved = [TermCounts(np.asarray(t.rows), np.asarray(t.terms), np.asarray(t.counts), t.vocab).moved(m)
                 for t, m in ((base, base_map), (delta, delta_map))]
        return moved[0].joined(TermCounts(moved[1].rows, moved[1].terms, moved[1].counts, dict(delta.vocab)))

    def dense_copy(self) -> faiss.Index:
        """A private FAISS index of this generation's vectors, read from its files, for a build to change in place."""
        index = tune(faiss.read_index(str(self.path / BASE / "dense.faiss")))
        if self.delta is not None:
            base_map, _ = self.row_maps
            index.remove_ids(np.ascontiguousarray(self.base.items["id"][base_map < 0], dtype=np.int64))
            if len(self.delta.items):
                index.add_with_ids(np.ascontiguousarray(self.delta.vectors, dtype=np.float32), self.delta.items["id"].astype(np.int64))
        return index


def assemble(path: Path, manifest: dict, base: Base, delta: Delta | None) -> Generation:
    """The generation a base and delta make: their stories merged in id order, the hidden ones left out."""
    if delta is None:
        postings = base.postings
        lexical = Lexical(base.terms.vocab, [LexicalPart(postings)], postings.frequencies(), len(base.items), base.total_length)
        return Generation(path, manifest, base.stories, base.items, np.asarray(base.vectors), base.dense, lexical, base,
                          story_starts=base.starts)
    hidden = np.zeros(len(base.stories), dtype=bool)
    hidden[delta.hidden] = True
    visible = np.flatnonzero(~hidden)
    base_ids = base.stories.ids
    visible_ids = base_ids if not len(delta.hidden) else picked(base_ids, visible)
    places = np.array([bisect.bisect_left(visible_ids, story_id) for story_id in delta.stories.ids], dtype=np.int64)
    delta_numbers = places + np.arange(len(places))
    base_numbers = np.arange(len(visible)) + np.searchsorted(places, np.arange(len(visible)), side="right")
    count = len(visible) + len(places)
    part = np.zeros(count, dtype=np.int8)
    part[delta_numbers] = 1
    local = np.empty(count, dtype=np.int64)
    local[base_numbers], local[delta_numbers] = visible, np.arange(len(places))
    # Rows: each story's rows, in story order, from its part (delta rows counted after the base's).
    first, last, in_delta = np.empty(count, dtype=np.int64), np.empty(count, dtype=np.int64), part == 1
    first[~in_delta], last[~in_delta] = base.starts[local[~in_delta]], base.starts[local[~in_delta] + 1]
    first[in_delta] = len(base.items) + delta.starts[local[in_delta]]
    last[in_delta] = len(base.items) + delta.starts[local[in_delta] + 1]
    sizes = last - first
    starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(sizes)])
    # Runs of stories whose rows follow one another in one part: a change makes a few (about two per story it adds,
    # changes or removes), so the rows are copied run by run as slices, at the speed of memory, instead of a million
    # rows gathered and scattered one by one.
    breaks = np.flatnonzero((first[1:] != last[:-1]) | (part[1:] != part[:-1])) + 1
    run_starts, run_ends = np.concatenate([[0], breaks]).astype(np.int64), np.concatenate([breaks, [count]]).astype(np.int64)
    run_first, run_last = first[run_starts], last[run_ends - 1]
    row_map = rows_between(run_first, run_last)
    split = len(base.items)
    base_map, delta_map = np.full(split, -1, dtype=np.int64), np.full(len(delta.items), -1, dtype=np.int64)
    pieces = [base.items[:0]]
    for begin, end, at in zip(run_first.tolist(), run_last.tolist(), starts[run_starts].tolist(), strict=True):
        rows, part_map, offset = (base.items, base_map, 0) if begin < split else (delta.items, delta_map, split)
        pieces.append(rows[begin - offset: end - offset])
        part_map[begin - offset: end - offset] = np.arange(at, at + end - begin)
    items = np.concatenate(pieces)
    items["story"] = np.repeat(np.arange(count, dtype=np.int32), sizes)

    # The hidden stories' rows, one slice each: their word counts and ids come out of the whole's (a few rows, not a
    # mask over a million).
    hidden_first, hidden_last = base.rows_of(np.asarray(delta.hidden, dtype=np.int64))
    hidden_rows = rows_between(hidden_first, hidden_last)
    frequencies = np.zeros(len(base.terms.vocab) + len(delta.words), dtype=np.int64)
    frequencies[: len(base.postings.indptr) - 1] = base.postings.frequencies()
    frequencies[: len(delta.postings.indptr) - 1] += delta.postings.frequencies()
    if len(hidden_rows):
        frequencies -= np.bincount(base.terms.of_rows(hidden_first, hidden_last).terms, minlength=len(frequencies))
    total_length = base.total_length - float(np.sum(base.postings.lengths[hidden_rows], dtype=np.float64)) + delta.total_length
    lexical = Lexical(delta.terms.vocab, [LexicalPart(base.postings, base_map), LexicalPart(delta.postings, delta_map)],
                      frequencies, len(row_map), total_length)
    dense = Dense(base.dense, base.items["id"][hidden_rows], delta.vectors, delta.items["id"])
    stories = CombinedShelf(base.stories, delta.stories, part, local)
    return Generation(path, manifest, stories, items, Vectors(base.vectors, delta.vectors, row_map), dense, lexical, base, delta,
                      part, local, (base_map, delta_map), starts)


def rows_between(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The rows [first[i], last[i]) of each i, one after the other."""
    sizes = last - first
    offsets = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(sizes, dtype=np.int64)[:-1]])
    return np.repeat(first - offsets, sizes) + np.arange(int(sizes.sum()), dtype=np.int64)


def write_generation(
    root: Path, *, model: str, stories: list[Story | ShelvedStory], hashes: dict[str, str], items: np.ndarray,
    vectors: np.ndarray, terms: TermCounts, dense: faiss.Index | None = None,
) -> Path:
    """Write a generation with a new base and no delta into a scratch directory, then swap it in; returns its
    final path.

    `hashes` are the parsed stories' content hashes by id; `dense`, if given, already holds `vectors` under their ids
    (an index updated in place), else one is built."""
    def fill(scratch: Path) -> dict:
        nonlocal dense
        base = scratch / BASE
        base.mkdir()
        dense = dense or build_dense(vectors, items["id"])
        faiss.write_index(dense, str(base / "dense.faiss"))
        _write_part(base, stories, hashes, items, vectors, terms, len(terms.vocab))
        words = sorted(terms.vocab, key=terms.vocab.__getitem__)
        (base / "vocab.json").write_text(json.dumps(words), encoding="utf-8")
        return {"base": uuid.uuid4().hex, "dense_index": describe(dense)}

    kinds = items["kind"]
    counts = {"stories": len(stories), "facts": int((kinds == FACT).sum()), "narratives": int((kinds == NARRATIVE).sum())}
    return _write(root, model, int(vectors.shape[1]), counts, fill)


def write_delta_generation(
    root: Path, previous: Generation, *, model: str, stories: list[Story | ShelvedStory], items: np.ndarray,
    vectors: np.ndarray, terms: TermCounts, hidden: np.ndarray, hashes: dict[str, str], counts: dict,
) -> Path:
    """Write a generation sharing `previous`'s base (hard links) with a new delta: `stories` (in id order) with
    their `items` (numbered by their place in `stories`), `vectors` and `terms` (rows the delta's own, words
    over the base's vocabulary and beyond), and the base stories it `hidden`s. `hashes`: the parsed stories' content
    hashes by id; `counts`: the whole generation's."""
    def fill(scratch: Path) -> dict:
        _link_tree(previous.path / BASE, scratch / BASE)
        delta = scratch / DELTA
        delta.mkdir()
        _write_part(delta, stories, hashes, items, vectors, terms, len(terms.vocab))
        words = _words_beyond(terms.vocab, len(previous.base.terms.vocab))
        (delta / "words.json").write_text(json.dumps(words), encoding="utf-8")
        np.save(delta / "hidden.npy", np.asarray(hidden, dtype=np.int64))
        return {"base": previous.manifest["base"], "dense_index": previous.manifest["dense_index"],
                "delta": {"stories": len(stories), "items": len(items), "hidden_stories": len(hidden)}}

    return _write(root, model, int(vectors.shape[1]), counts, fill)


def _words_beyond(vocab: dict[str, int], known: int) -> list[str]:
    """The words numbered `known` and up, in number order. A vocabulary grows by appending (`TermCounts.of_texts`), so
    they are its last entries: taken from the end, not by a walk over every word of the base (100,000s)."""
    words = list(itertools.islice(reversed(vocab), len(vocab) - known))[::-1]
    if [vocab[word] for word in words] != list(range(known, len(vocab))):  # not in number order after all: walk them
        words = sorted((word for word, number in vocab.items() if number >= known), key=vocab.__getitem__)
    return words


def _write_part(directory: Path, stories: list[Story | ShelvedStory], hashes: dict[str, str], items: np.ndarray, vectors: np.ndarray,
                terms: TermCounts, words: int) -> None:
    np.save(directory / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
    np.save(directory / "items.npy", items)
    write_shelf(directory, stories, hashes)
    terms.save(directory)
    Postings.of_counts(terms, len(items), words).save(directory)


def _link_tree(source: Path, target: Path) -> None:
    """`target` holding `source`'s files as hard links (the same files, not copies), or copies where the file
    system has no links; never changed afterwards, by either generation."""
    target.mkdir()
    for file in source.iterdir():
        try:
            os.link(file, target / file.name)
        except OSError:
            shutil.copy2(file, target / file.name)


def _write(root: Path, model: str, dimension: int, counts: dict, fill) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    scratch.chmod(0o755)  # mkdtemp makes it private; readers may run as another user
    try:
        parts = fill(scratch)
        manifest = {"format_version": FORMAT_VERSION, "model": model, "dimension": dimension, "counts": counts, **parts,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        (scratch / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        _fsync_tree(scratch)
        final = root / f"gen-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{scratch.name[-8:]}"
        os.rename(scratch, final)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    _point_current_at(root, final.name)
    _prune(root, keep=final.name)
    return final


def unusable(root: Path, problem: str) -> IndexFormatError:
    """Every unusable index gets the same remedy, which `build` applies without manual deletion."""
    return IndexFormatError(f"index at {root} {problem}: rebuild it with `python -m index build --out {root}`")


def current_path(root: Path) -> Path:
    pointer = root / CURRENT
    if not pointer.is_file():
        raise IndexFormatError(f"no index at {root}: build it with `python -m index build --out {root}`")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, ValueError) as exc:  # unreadable, or not UTF-8
        raise unusable(root, f"is damaged ({exc})") from exc
    if not GENERATION_NAME.fullmatch(name):  # an absolute path, "..", the folder itself: never followed
        raise unusable(root, "points outside its generations")
    path = root / name
    if not path.is_dir():
        raise unusable(root, f"points at missing {name}")
    return path


def current_name(root: Path) -> str | None:
    """The name CURRENT holds, unchecked, or None: for telling whether another build swapped it meanwhile."""
    try:
        return (root / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return None


def read_manifest(root: Path, path: Path | None = None) -> dict:
    path = path or current_path(root)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise unusable(root, f"is damaged ({exc})") from exc
    if not isinstance(manifest, dict):
        raise unusable(root, "is damaged (its manifest is not an object)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise unusable(root, f"has format version {manifest.get('format_version')}, this storybot reads {FORMAT_VERSION}")
    if missing := sorted({"model", "dimension", "counts", "base"} - manifest.keys()):
        raise unusable(root, f"is damaged (its manifest lacks {', '.join(missing)})")
    return manifest


# Generations loaded in this process, by their folder and its files' identities: the build after a change and the
# load after that build reuse the one the library is answering from. Never changed once loaded.
_loaded_generations: "weakref.WeakValueDictionary[tuple, Generation]" = weakref.WeakValueDictionary()


def read_generation(root: Path, *, model: str | None = None) -> Generation:
    """Load the current generation; with `model`, refuse one built by another model."""
    path = current_path(root)  # once: a build swapping CURRENT meanwhile must not pair one manifest with other data
    try:
        key = (str(path.resolve()), *_files_identity(path))
    except OSError as exc:
        raise unusable(root, f"is damaged ({exc})") from exc
    generation = _loaded_generations.get(key)
    manifest = generation.manifest if generation is not None else read_manifest(root, path)
    if model is not None and manifest["model"] != model:
        raise unusable(root, f"was built with model {manifest['model']!r}, not {model!r}")
    if generation is not None:
        return generation
    try:
        base = _base(path / BASE, str(manifest["base"]))
        delta = Delta(path / DELTA, base) if (path / DELTA).is_dir() else None
        generation = assemble(path, manifest, base, delta)
    except Exception as exc:  # any damage at all means the same thing to the user: rebuild
        raise unusable(root, f"is damaged ({exc})") from exc
    if not (len(generation.items) == len(generation.vectors) == generation.dense.ntotal) or len(generation.stories) != manifest["counts"]["stories"]:
        raise unusable(root, "is inconsistent")
    _loaded_generations[key] = generation
    return generation


def unchanged_counts(root: Path, folder: StoryFolder, model: str) -> tuple[dict, list[Problem]] | None:
    """The current generation's counts, and the fatal problems of the files it left out, when nothing changed
    since the last build; else None.

    Nothing changed means: the story files (`folder`, as a scan found them) are the ones recorded then, CURRENT
    names the same generation, built with `model` in this storybot's format, and every file of that generation has the size and time it
    had when written (a truncated or replaced file fails this). Reads the first line of one small file and
    stats the generation's dozen files: nothing is loaded, and the recorded listing is not even read unless a
    change since its base left its digest out of the record (`files_as_recorded`).
    """
    try:
        with open(root / STATS, encoding="utf-8") as record:
            recorded = json.loads(record.readline())
            path = current_path(root)
            if (recorded["generation"], recorded["model"], recorded.get("format")) != (path.name, model, FORMAT_VERSION):
                return None  # an index another format version wrote is rebuilt
            if not _lists(root, recorded, record, folder):
                return None
        if _generation_file_stats(path) != recorded["generation_files"]:
            return None
        return recorded["counts"], [Problem(Path(name), int(line), str(message)) for name, line, message in recorded["problems"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexFormatError):
        return None


def files_as_recorded(root: Path, folder: StoryFolder) -> bool:
    """Whether the story files (`folder`, as a scan found them) are the ones the last build of the current generation
    recorded; False if there is no such record."""
    try:
        with open(root / STATS, encoding="utf-8") as record:
            recorded = json.loads(record.readline())
            return recorded["generation"] == current_path(root).name and _lists(root, recorded, record, folder)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexFormatError):
        return False


def _lists(root: Path, recorded: dict, record, folder: StoryFolder) -> bool:
    """Whether the record lists `folder`'s files: by the signature line 1 holds, or (a change since the base left it
    out) by the listing itself, line 2 laid over its base (`Listing.lists`). `record` is the open file, past line 1."""
    if isinstance(signature := recorded.get("signature"), str):
        return signature == folder.signature
    return _listing(root, recorded, record).lists(folder.record)


def _listing(root: Path, recorded: dict, record) -> Listing:
    """The listing the record holds (`listing.Listing`); a record written before (line 1 naming no base, line 2 the
    whole listing: one string, or one entry per file) is read too. `record` is the open file, past line 1."""
    files = json.loads(record.readline())  # parsed in C, at any number of files
    base = recorded.get("listing")
    if base is None:  # written before the listing had a base
        listing = files if isinstance(files, str) else record_of_stats(files)
        if record_signature(listing) != recorded["signature"]:
            raise ValueError("the recorded listing is not the one its signature says")
        return Listing(root, None, {}, listing, recorded["signature"])
    if not (isinstance(base, str) and LISTING_NAME.fullmatch(base)):  # a name inside the folder, never a path
        raise ValueError(f"the record names {base!r} as its listing")
    signature = recorded.get("signature")
    return Listing(root, base, read_patch(files), None, signature if isinstance(signature, str) else None)


@dataclass(frozen=True)
class RecordedFiles:
    """The story files as the last build of a generation found them: what an incremental build compares."""

    listing: Listing  # every file's absolute name, size and time: a base and the entries changed since
    paths: list[str] | None  # the paths that build was given, as spelled (None: not recorded)
    unshelved: list[str] | None  # the files it found but holds no story of (invalid ones; None: not recorded)


def recorded_files(root: Path, generation: Path) -> RecordedFiles | None:
    """The story files as the last build of `generation` found them; None if no build of it was recorded. Reads the
    record's two lines, not the base listing (read when first asked for, `Listing.text`)."""
    try:
        with open(root / STATS, encoding="utf-8") as record:
            recorded = json.loads(record.readline())
            if recorded["generation"] != generation.name:
                return None
            listing = _listing(root, recorded, record)
        paths, unshelved = recorded.get("paths"), recorded.get("unshelved")
        if not (_strings(paths) and _strings(unshelved)):
            paths = unshelved = None
        return RecordedFiles(listing, paths, unshelved)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(entry, str) for entry in value)


def record_stats(root: Path, listing: Listing, problems: list[Problem], model: str, counts: dict, *,
                 paths: list[Path], unshelved: list[str]) -> None:
    """Beside the generations, not in one: a touched but unchanged file must not cost a new generation.

    Line 1 is what the no-op check reads, with the fatal problems of the files the build left out (reported
    again by every build, the no-op one included, without reading them), and the name of the base listing; line 2 is
    the listing's patch, read only by a build with work to do (`listing.py`). A change told its files writes the
    base listing it started from again only when the patch grows past `listing.PATCH_MOST`.
    `model` and `counts` are the current generation's, as the build that wrote it (or found it current) knows them:
    its manifest is not read again. `paths` (as given) and `unshelved` (the files found that the generation holds no
    story of) let the next change, told which files it touched, skip the scan (`builder._told_change`)."""
    path = current_path(root)
    listing = listing.kept()
    record = {"generation": path.name, "model": model, "format": FORMAT_VERSION, "counts": counts,
              "generation_files": _generation_file_stats(path), "listing": listing.base,
              "problems": [[str(p.path), p.line, p.message] for p in problems if p.fatal],
              "paths": [str(path) for path in paths], "unshelved": unshelved}
    if not listing.patch:  # else the digest of base and patch together is left to whoever compares it with a scan
        record["signature"] = listing.signature
    patch = {name: list(stat) if stat is not None else None for name, stat in listing.patch.items()}
    write_atomically(root / STATS, (json.dumps(record) + "\n" + json.dumps(patch) + "\n").encode("utf-8"))
    prune_listings(root, keep=listing.base)


def _generation_file_stats(path: Path, *, inodes: bool = False) -> dict[str, list[int]]:
    return {str(f.relative_to(path)): [(info := f.stat()).st_size, info.st_mtime_ns, *([info.st_ino] if inodes else [])]
            for f in sorted(path.rglob("*")) if f.is_file()}


def _files_identity(path: Path) -> tuple:
    """What tells apart the files under `path` (names, sizes, times and inodes): the key a loaded base or
    generation is reused by within a process."""
    return tuple((name, *stat) for name, stat in _generation_file_stats(path, inodes=True).items())


@contextmanager
def change_lock(root: Path):
    """One library change (story files, build, load) at a time per index directory, across processes sharing
    it; the build inside takes `build_lock` as well. Opened for appending: taking it never changes the file."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".change.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def build_lock(root: Path):
    """One build at a time per index directory; a second one waits for the first."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _remove_abandoned_builds(root)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _point_current_at(root: Path, name: str) -> None:
    write_atomically(root / CURRENT, (name + "\n").encode("utf-8"))


def _prune(root: Path, keep: str) -> None:
    generations = sorted((p for p in root.glob("gen-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    older = [p for p in generations if p.name != keep]
    for path in older[: max(0, len(older) - (GENERATIONS_KEPT - 1))]:
        shutil.rmtree(path, ignore_errors=True)


def _remove_abandoned_builds(root: Path) -> None:
    """Scratch directories left by a killed build; safe because the caller holds the build lock."""
    for path in root.glob(".building-*"):
        shutil.rmtree(path, ignore_errors=True)


def _fsync_tree(path: Path) -> None:
    """Every file written into `path`, and its folders. A hard link to the previous generation's file (a base's,
    `_link_tree`) is that file, made durable when it was written: only the folder holding the link is synced."""
    for file in path.rglob("*"):
        if file.is_file() and file.stat().st_nlink == 1:
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
    for directory in [path, *(d for d in path.rglob("*") if d.is_dir())]:
        fsync_dir(directory)
