"""The index on disk: immutable generations and one pointer to the current one.

    DIR/CURRENT          name of the generation in use (replaced atomically)
    DIR/gen-…/           manifest.json, items.npy, vectors.npy, dense.faiss, lexical/, terms.npz, and the stories
                         (stories.jsonl, catalog.json, story_offsets.npy: see shelf.py)
    DIR/.building-…/     a build in progress; never read, removed by the next build

A build writes a whole new generation beside the old one and only then swaps CURRENT, so a crash, kill
or error at any moment leaves the previous index exactly as it was, and a reader never sees half a build.
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np

from .corpus import StoryFolder, stats_signature
from .dense import build_dense, describe, searched, tune
from .errors import IndexFormatError, Problem
from .files import fsync_dir, write_atomically
from .lexical import TermCounts, build_lexical
from .models import Story
from .shelf import ShelvedStory, StoryShelf, write_shelf

# 3: titles kept without invisible characters, ids always derived from the title, facts numbered by their
# position. A version-2 generation may hold stories these rules refuse, so it is rebuilt from the files.
# 4: each item's word counts kept (terms.npz), so a build carries unchanged stories over without reading them.
FORMAT_VERSION = 4
CURRENT = "CURRENT"
STATS = "story_files.jsonl"  # the story files as the current generation saw them (see record_stats)
GENERATIONS_KEPT = 2  # the current one and the one before, so a reader mid-load is never pulled from under

GENERATION_NAME = re.compile(r"gen-[0-9A-Za-z_-]+")  # what CURRENT may hold: a generation inside the folder
FACT, NARRATIVE = 0, 1
# One row per embedded text: which story, fact or narrative, and its position in the story (0-based).
# Rows are grouped by story, in story order, so a story's rows are one slice.
ITEM_DTYPE = np.dtype([("id", "<i8"), ("story", "<i4"), ("kind", "<i1"), ("position", "<i4")])


def item_id(story_id: str, kind: int, position: int) -> int:
    """A stable FAISS id: the same bullet of the same story keeps its id across rebuilds."""
    digest = hashlib.blake2b(f"{story_id}\0{kind}\0{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


@dataclass
class Generation:
    """One complete, immutable build: everything needed to answer questions."""

    path: Path
    manifest: dict
    stories: StoryShelf
    items: np.ndarray  # ITEM_DTYPE
    vectors: np.ndarray  # float32, row i is items[i]; memory-mapped when loaded
    dense: faiss.Index
    lexical: bm25s.BM25

    def story_rows(self, story: int) -> slice:
        return slice(int(self._starts[story]), int(self._starts[story + 1]))

    def nearest_rows(self, query: np.ndarray, count: int) -> np.ndarray:
        """Rows of the `count` items whose vectors are nearest `query` (inner product), best first. An index with
        approximate distances is asked for more (`dense.searched`), re-ranked by their exact inner products with the
        stored vectors, which are memory-mapped already: exact ranking at no cost in memory."""
        count = min(count, self.dense.ntotal)
        _, ids = self.dense.search(query[None, :], min(searched(self.dense, count), self.dense.ntotal))
        rows = self.rows_of_ids(ids[0][ids[0] >= 0])
        if len(rows) > count:
            rows = rows[np.argsort(-(self._vectors[rows] @ query), kind="stable")[:count]]
        return rows

    def rows_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """Rows of FAISS ids, through sorted arrays: a dict of a million ints would cost 100 MB."""
        positions = np.searchsorted(self._sorted_ids, ids)
        return self._id_order[np.minimum(positions, len(self._id_order) - 1)]

    def __post_init__(self) -> None:
        self._starts = np.searchsorted(self.items["story"], np.arange(len(self.stories) + 1))
        self._id_order = np.argsort(self.items["id"]).astype(np.int64)
        self._sorted_ids = self.items["id"][self._id_order]
        self._vectors = np.asarray(self.vectors)  # a plain view of the memory map: no copy, no subclass overhead

    def content_hashes(self) -> dict[str, str]:
        return self.manifest["stories"]


def write_generation(
    root: Path, *, model: str, stories: list[Story | ShelvedStory], hashes: dict[str, str], items: np.ndarray,
    vectors: np.ndarray, terms: TermCounts, dense: faiss.Index | None = None,
) -> Path:
    """Write a generation into a scratch directory, then swap it in; returns its final path.

    `hashes` are the stories' content hashes by id; `dense`, if given, already holds `vectors` under their ids
    (an index updated in place), else one is built."""
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    scratch.chmod(0o755)  # mkdtemp makes it private; readers may run as another user
    try:
        dense = dense or build_dense(vectors, items["id"])
        faiss.write_index(dense, str(scratch / "dense.faiss"))
        np.save(scratch / "vectors.npy", vectors)
        np.save(scratch / "items.npy", items)
        write_shelf(scratch, stories)
        build_lexical(terms, len(items)).save(str(scratch / "lexical"))
        terms.save(scratch)
        kinds = items["kind"]
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": model,
            "dimension": int(vectors.shape[1]),
            "counts": {
                "stories": len(stories),
                "facts": int((kinds == FACT).sum()),
                "narratives": int((kinds == NARRATIVE).sum()),
            },
            "dense_index": describe(dense),
            "stories": {story.id: hashes[story.id] for story in stories},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (scratch / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
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
    if missing := sorted({"model", "dimension", "counts", "stories"} - manifest.keys()):
        raise unusable(root, f"is damaged (its manifest lacks {', '.join(missing)})")
    return manifest


def read_generation(root: Path, *, model: str | None = None) -> Generation:
    """Load the current generation; with `model`, refuse one built by another model."""
    path = current_path(root)  # once: a build swapping CURRENT meanwhile must not pair one manifest with other data
    manifest = read_manifest(root, path)
    if model is not None and manifest["model"] != model:
        raise unusable(root, f"was built with model {manifest['model']!r}, not {model!r}")
    try:
        stories = StoryShelf(path)
        items = np.load(path / "items.npy")
        vectors = np.load(path / "vectors.npy", mmap_mode="r")
        dense = tune(faiss.read_index(str(path / "dense.faiss")))
        lexical = bm25s.BM25.load(str(path / "lexical"), mmap=True, show_progress=False)
        TermCounts.check(path)  # only builds read it, but a damaged one is found now, with the rest
    except Exception as exc:  # any damage at all means the same thing to the user: rebuild
        raise unusable(root, f"is damaged ({exc})") from exc
    if not (len(items) == len(vectors) == dense.ntotal) or len(stories) != manifest["counts"]["stories"]:
        raise unusable(root, "is inconsistent")
    return Generation(path, manifest, stories, items, vectors, dense, lexical)


def unchanged_counts(root: Path, signature: str, model: str) -> tuple[dict, list[Problem]] | None:
    """The current generation's counts, and the fatal problems of the files it left out, when nothing changed
    since the last build; else None.

    Nothing changed means: the story files' signature (`corpus.StoryFolder`) is the one recorded then, CURRENT
    names the same generation, built with `model`, and every file of that generation has the size and time it
    had when written (a truncated or replaced file fails this). Reads the first line of one small file and
    stats the generation's dozen files: nothing is loaded, and the recorded per-file stats are not even read.
    """
    try:
        with open(root / STATS, encoding="utf-8") as record:
            recorded = json.loads(record.readline())
        path = current_path(root)
        if (recorded["generation"], recorded["model"], recorded["signature"]) != (path.name, model, signature):
            return None
        if _generation_file_stats(path) != recorded["generation_files"]:
            return None
        return recorded["counts"], [Problem(Path(name), int(line), str(message)) for name, line, message in recorded["problems"]]
    except (OSError, ValueError, KeyError, TypeError, IndexFormatError):
        return None


def recorded_signature(root: Path) -> str | None:
    """The story files' signature as the last build of the current generation found them, or None."""
    try:
        with open(root / STATS, encoding="utf-8") as record:
            recorded = json.loads(record.readline())
        return recorded["signature"] if recorded["generation"] == current_path(root).name else None
    except (OSError, ValueError, KeyError, TypeError, IndexFormatError):
        return None


def recorded_file_stats(root: Path, generation: Path) -> dict[str, list[int]] | None:
    """Each story file's [size, time] as the last build of `generation` found it (what an incremental build
    compares to find the files it must parse), or None if no build of it was recorded."""
    try:
        with open(root / STATS, encoding="utf-8") as record:
            recorded = json.loads(record.readline())
            files = json.loads(record.readline())
        if recorded["generation"] != generation.name or stats_signature(files) != recorded["signature"]:
            return None
        return files
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def record_stats(root: Path, folder: StoryFolder, problems: list[Problem]) -> None:
    """Beside the generations, not in one: a touched but unchanged file must not cost a new generation.

    Line 1 is what the no-op check reads, with the fatal problems of the files the build left out (reported
    again by every build, the no-op one included, without reading them); line 2, the per-file stats, is read
    only by a build with work to do."""
    path = current_path(root)
    manifest = read_manifest(root, path)
    record = {"generation": path.name, "model": manifest["model"], "counts": manifest["counts"],
              "generation_files": _generation_file_stats(path), "signature": folder.signature,
              "problems": [[str(p.path), p.line, p.message] for p in problems if p.fatal]}
    write_atomically(root / STATS, (json.dumps(record) + "\n" + json.dumps(folder.stats) + "\n").encode("utf-8"))


def _generation_file_stats(path: Path) -> dict[str, list[int]]:
    return {str(f.relative_to(path)): [(info := f.stat()).st_size, info.st_mtime_ns] for f in sorted(path.rglob("*")) if f.is_file()}


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
    for file in path.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
    for directory in [path, *(d for d in path.rglob("*") if d.is_dir())]:
        fsync_dir(directory)
