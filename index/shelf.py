"""A generation's stories, read from disk one at a time when an answer needs them.

At a million claims the stories as Python objects would take more memory than the whole index, so only
what routing and listing need is kept in memory (ids, titles, dates, files); a full `Story` is parsed
from its line of stories.jsonl on demand and the most recent ones are cached.
"""

import functools
import json
import operator
import os
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .models import Story, title_key

STORIES_FILE = "stories.jsonl"
CATALOG_FILE = "catalog.json"
OFFSETS_FILE = "story_offsets.npy"
CACHED_STORIES = 2048


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs several times more, 100,000 times a build
class ShelvedStory:
    """A story on a shelf, by its catalog columns, not parsed: what a build carries over to the next generation
    when the story's file has not changed. Its id is kept as a field: a build looks at 100,000 of them several times."""

    shelf: "StoryShelf"
    number: int
    id: str

    @property
    def title(self) -> str:
        return self.shelf.titles[self.number]

    @property
    def source_file(self) -> str | None:
        return self.shelf.source_files[self.number]

    @property
    def key(self) -> str:
        return self.shelf.keys[self.number]

    def content_hash(self) -> str:
        """As `Story.content_hash`, recorded on the shelf when the story was parsed."""
        return self.shelf.hashes[self.number]

    def json_line(self) -> bytes:
        return self.shelf.json_line(self.number)


class Numbered:
    """A shelf's stories numbered by id, title key and file: dictionaries made in C from its catalog columns, once
    per shelf (a build looks up its few changed stories in them instead of walking 100,000)."""

    ids: list[str]
    titles: list[str]
    updated: list[str | None]
    keys: list[str]  # each title's `title_key`
    source_files: list[str | None]
    hashes: list[str]  # each story's `content_hash`

    @functools.cached_property
    def number_of_id(self) -> dict[str, int]:
        return dict(zip(self.ids, range(len(self.ids)), strict=True))

    @functools.cached_property
    def number_of_key(self) -> dict[str, int]:
        return dict(zip(self.keys, range(len(self.keys)), strict=True))

    @functools.cached_property
    def number_of_file(self) -> dict[str | None, int]:
        """By file name (a story without a file is not in it)."""
        numbers = dict(zip(self.source_files, range(len(self.source_files)), strict=True))
        numbers.pop(None, None)
        return numbers


class CarriedStories:
    """The stories of a shelf a build carries over unparsed (their files unchanged): every story on it but the
    `dropped` numbers, kept as those few numbers so that a build costs its changes, not the shelf's length.
    `stories()` lists them all, for a build that writes every story anyway."""

    def __init__(self, shelf: "StoryShelf | CombinedShelf | None" = None, dropped=()):
        self.shelf = shelf
        self.dropped = np.unique(np.asarray(list(dropped), dtype=np.int64))
        self._dropped = set(self.dropped.tolist())

    def __len__(self) -> int:
        return 0 if self.shelf is None else len(self.shelf) - len(self.dropped)

    def number_of(self, story_id: str) -> int | None:
        """The number on the shelf of the carried story with this id, or None."""
        number = self.shelf.number_of_id.get(story_id) if self.shelf is not None else None
        return None if number in self._dropped else number

    def story(self, number: int) -> ShelvedStory:
        return ShelvedStory(self.shelf, number, self.shelf.ids[number])

    def numbers(self) -> np.ndarray:
        """The carried stories' numbers on the shelf, ascending."""
        if self.shelf is None:
            return np.array([], dtype=np.int64)
        return np.setdiff1d(np.arange(len(self.shelf), dtype=np.int64), self.dropped, assume_unique=True)

    def without(self, numbers) -> "CarriedStories":
        return CarriedStories(self.shelf, [*self.dropped.tolist(), *numbers])

    def stories(self) -> list[ShelvedStory]:
        """Every carried story (one object each: for a build that writes them all)."""
        ids = self.shelf.ids if self.shelf is not None else []
        return [ShelvedStory(self.shelf, number, ids[number]) for number in self.numbers().tolist()]

    def source_files(self) -> set[str | None]:
        """The files the carried stories were read from."""
        if self.shelf is None:
            return set()
        files = self.shelf.source_files
        return set(files).difference(files[n] for n in self.dropped.tolist()) if len(self.dropped) else set(files)


def write_shelf(directory: Path, stories: list[Story | ShelvedStory], hashes: dict[str, str]) -> None:
    """Stories in this order; a shelved one is copied as it is (its line and catalog columns), not parsed.
    `hashes`: the parsed ones' content hashes by id (made once by the build, which compares them)."""
    offsets, position = [], 0
    with open(directory / STORIES_FILE, "wb") as out:
        for story in stories:
            line = story.json_line() if isinstance(story, ShelvedStory) else story.model_dump_json().encode() + b"\n"
            offsets.append(position)
            out.write(line)
            position += len(line)
    catalog = {
        "ids": [s.id for s in stories],
        "titles": [s.title for s in stories],
        "updated": [s.shelf.updated[s.number] if isinstance(s, ShelvedStory) else s.updated.isoformat() if s.updated else None
                    for s in stories],
        "source_files": [s.source_file for s in stories],
        # Each title as `title_key` compares it, made once here: at 100,000 stories making them costs 2 s.
        "keys": [s.key if isinstance(s, ShelvedStory) else title_key(s.title) for s in stories],
        # Kept with the stories they describe, so a generation that shares its base's shelf shares these too: a
        # change writes only its own stories' hashes (the manifest held them all until format 6).
        "hashes": [s.content_hash() if isinstance(s, ShelvedStory) else hashes[s.id] for s in stories],
    }
    (directory / CATALOG_FILE).write_text(json.dumps(catalog), encoding="utf-8")
    np.save(directory / OFFSETS_FILE, np.array(offsets + [position], dtype=np.int64))


class StoryShelf(Numbered):
    """Sequence-like: `len(shelf)`, `shelf[n]` (a `Story`), iteration; plus the catalog columns."""

    def __init__(self, directory: Path):
        catalog = json.loads((directory / CATALOG_FILE).read_text(encoding="utf-8"))
        self.ids: list[str] = catalog["ids"]
        self.titles: list[str] = catalog["titles"]
        self.updated: list[str | None] = catalog["updated"]
        self.source_files: list[str | None] = catalog["source_files"]
        self.keys: list[str] = catalog["keys"]
        self.hashes: list[str] = catalog["hashes"]
        self._offsets = np.load(directory / OFFSETS_FILE)
        if not (len(self.ids) == len(self.titles) == len(self.keys) == len(self.hashes) == len(self._offsets) - 1):
            raise ValueError("catalog and story offsets disagree")
        # Opened once and kept open until the shelf is released: a later build may prune this generation
        # from disk, and an open file stays readable after it is deleted.
        self._file = open(directory / STORIES_FILE, "rb")  # noqa: SIM115 (closed by the finalizer)
        weakref.finalize(self, self._file.close)
        if os.fstat(self._file.fileno()).st_size != int(self._offsets[-1]):  # read lazily, so a cut file would only fail mid-answer
            self._file.close()
            raise ValueError(f"{STORIES_FILE} is not the size its offsets say")
        self._read = functools.lru_cache(maxsize=CACHED_STORIES)(self._read_story)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, number: int) -> Story:
        if not 0 <= number < len(self):
            raise IndexError(number)
        return self._read(number)

    def __iter__(self) -> Iterator[Story]:
        for number in range(len(self)):
            yield self._read_story(number)

    def json_line(self, number: int) -> bytes:
        """Story `number` as stored (one JSON line), unparsed."""
        start, end = int(self._offsets[number]), int(self._offsets[number + 1])
        # pread: no shared file position, so threads answering at once cannot disturb each other's reads.
        return os.pread(self._file.fileno(), end - start, start)

    def _read_story(self, number: int) -> Story:
        return Story.model_validate_json(self.json_line(number))


class CombinedNumbers:
    """A base shelf's lookup (by id, title key or file) and a delta shelf's as one, giving the combined shelf's
    numbers: the base's dictionary is made once per base and shared by every generation over it, so a change
    makes only its delta's. A key the delta has is the delta's (it replaces the base story of that id)."""

    def __init__(self, base: dict, delta: dict, base_numbers: np.ndarray, delta_numbers: np.ndarray):
        self._base, self._delta, self._base_numbers, self._delta_numbers = base, delta, base_numbers, delta_numbers

    def get(self, key, default=None):
        number = self._delta.get(key)
        if number is not None:
            return int(self._delta_numbers[number])
        number = self._base.get(key)
        if number is not None and (combined := int(self._base_numbers[number])) >= 0:  # -1: hidden by the delta
            return combined
        return default

    def __getitem__(self, key) -> int:
        if (number := self.get(key)) is None:
            raise KeyError(key)
        return number

    def __contains__(self, key) -> bool:
        return self.get(key) is not None


class CombinedShelf:
    """A base shelf and a delta shelf as one, in the order `part` (0 base, 1 delta) and `local` (the story's number
    in its part) give: what `StoryShelf` offers, without reading or copying either shelf's stories."""

    def __init__(self, base: StoryShelf, delta: StoryShelf, part: np.ndarray, local: np.ndarray):
        self._shelves, self._part, self._local = (base, delta), part, local
        in_delta = np.flatnonzero(part == 1)
        in_base = local[part == 0]
        for column in ("ids", "titles", "updated", "source_files", "keys", "hashes"):
            setattr(self, column, _merged(getattr(base, column), in_base, getattr(delta, column), in_delta))
        base_numbers = np.full(len(base), -1, dtype=np.int64)
        base_numbers[in_base] = np.flatnonzero(part == 0)
        for lookup in ("number_of_id", "number_of_key", "number_of_file"):
            setattr(self, lookup, CombinedNumbers(getattr(base, lookup), getattr(delta, lookup), base_numbers, in_delta))

    def __len__(self) -> int:
        return len(self._part)

    def __getitem__(self, number: int) -> Story:
        if not 0 <= number < len(self):
            raise IndexError(number)
        return self._shelves[int(self._part[number])][int(self._local[number])]

    def __iter__(self) -> Iterator[Story]:
        for number in range(len(self)):
            yield self._shelves[int(self._part[number])]._read_story(int(self._local[number]))

    def json_line(self, number: int) -> bytes:
        return self._shelves[int(self._part[number])].json_line(int(self._local[number]))


def picked(column: list, numbers: np.ndarray) -> list:
    """`column`'s entries at `numbers`, gathered in C (a list comprehension costs 100,000 steps of Python)."""
    if len(numbers) < 2:  # itemgetter gives a tuple only for two or more
        return [column[n] for n in numbers.tolist()]
    return list(operator.itemgetter(*numbers.tolist())(column))


def _merged(base: list, in_base: np.ndarray, delta: list, places: np.ndarray) -> list:
    """`base`'s entries numbered in `in_base`, with `delta`'s placed at `places` (ascending) among them."""
    kept = base if len(in_base) == len(base) else picked(base, in_base)
    merged, taken = [], 0
    for place, entry in zip(places.tolist(), delta, strict=True):
        more = place - len(merged)
        merged.extend(kept[taken: taken + more])
        taken += more
        merged.append(entry)
    merged.extend(kept[taken:])
    return merged
