"""Gather the stories a build starts from: every story file under the given paths, checked together.

Checking together is what catches problems no single file shows, such as two files with one title.
"""

import bisect
import functools
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from .errors import HasProblems, Problem
from .models import Story, title_key
from .parser import STORY_SUFFIXES, parse_file
from .shelf import CarriedStories, ShelvedStory


@dataclass
class Corpus(HasProblems):
    stories: list[Story] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    carried: CarriedStories = field(default_factory=CarriedStories)  # stories of unchanged files, checked with the rest




@dataclass(frozen=True)
class StoryFolder:
    """The story files under some paths as one scan found them: what a build reads, records and compares.

    `signature` is a digest of `listing`, every file's absolute name, size and modification time, so "nothing was
    touched" is one string comparison; the rest is made only when a build has work to do.
    """

    signature: str
    found: list[tuple[str, str, int, int]]  # (absolute name, name as given, size, time), by absolute name
    missing: list[str]  # files named in the paths that do not exist
    listing: list[str] = field(repr=False)  # one "name\0size\0time\0" entry per file of `found`, in its order

    @functools.cached_property
    def names(self) -> list[str]:
        """The files to parse, sorted, as the paths spell them (a missing one too, so the parser reports it)."""
        return sorted([given for _, given, _, _ in self.found] + self.missing)

    @functools.cached_property
    def record(self) -> str:
        """The listing as `record_stats` keeps it: its entries joined, what `signature` digests."""
        return "".join(self.listing)

    def given_name(self, name: str) -> str | None:
        """The file `name` (absolute) as the paths spell it, if this scan found it."""
        place = bisect.bisect_left(self.found, name, key=itemgetter(0))
        return self.found[place][1] if place < len(self.found) and self.found[place][0] == name else None

    def changed_since(self, record: str) -> set[str]:
        """The files (as the paths spell them) whose name, size or time is not in `record` (a `record` made by an
        earlier scan): new or changed since. Set operations in C over the two listings: no per-file Python beyond
        the changed files, however many files there are."""
        entries = set(self.listing).difference(_ENTRY.findall(record))
        if not entries:
            return set()
        absolute = list(map(itemgetter(0), self.found))
        return {self.found[bisect.bisect_left(absolute, entry.split("\0", 1)[0])][1] for entry in entries}

    @functools.cached_property
    def given_names(self) -> set[str]:
        """Every file found, as the paths spell them."""
        return set(map(itemgetter(1), self.found))


def listing_entry(name: str, size: int, time: int) -> str:
    """One file's entry in a listing (`StoryFolder.record`): its absolute name, size and modification time (ns), each
    ended by "\0", which is in no file name."""
    return f"{name}\0{size}\0{time}\0"


_ENTRY = re.compile(r"[^\0]*\0[^\0]*\0[^\0]*\0")  # one file of a listing: name, size and time, each ended by "\0"


def scan_story_files(paths: list[Path]) -> StoryFolder:
    """One pass over the folders: each entry's type comes from the directory listing and each story file is
    stat'ed once (no file is opened). At 100,000 files this is the whole cost of an unchanged build."""
    found: list[tuple[str, str, int, int]] = []
    missing: list[str] = []
    for path in paths:
        given = str(path)
        if os.path.isdir(given):
            _story_files_in(given, os.path.abspath(given), found)
            continue
        try:
            info = os.stat(given)
        except OSError:
            missing.append(given)  # reported as unreadable by the parser, with its name
            continue
        found.append((os.path.abspath(given), given, info.st_size, info.st_mtime_ns))
    if len(paths) > 1:  # paths that overlap name some files twice
        found = list({entry[0]: entry for entry in found}.values())
    found.sort(key=itemgetter(0))
    listing = [listing_entry(name, size, mtime) for name, _, size, mtime in found]
    return StoryFolder(record_signature("".join(listing)), found, missing, listing)


GONE = "gone"  # `scanned_entry`: the file is not there, as far as a scan is concerned


def scanned_entry(folder: Path, name: str) -> tuple[str, tuple[int, int] | str] | None:
    """The file `name` as a scan of `folder` (a directory) would list it, without scanning: its absolute name, and
    its (size, time), or GONE if a scan would not find it. None if a scan would never list a file under that name:
    outside the folder, hidden, not a story file's suffix, behind a linked folder (not descended), or spelled other
    than the scan spells it. The same rules as `scan_story_files` and `_story_files_in`, for one file."""
    given = str(folder)
    prefix = os.path.join(given, "")
    if not name.startswith(prefix):
        return None
    parts = name[len(prefix):].split("/")
    if any(not part or part.startswith(".") for part in parts) or not parts[-1].lower().endswith(STORY_SUFFIXES):
        return None
    absolute = "/".join([os.path.abspath(given), *parts])
    try:
        for depth in range(1, len(parts)):
            info = os.lstat(os.path.join(given, *parts[:depth]))
            if stat.S_ISLNK(info.st_mode):
                return None
            if not stat.S_ISDIR(info.st_mode):
                return absolute, GONE
        info = os.stat(name)
    except (FileNotFoundError, NotADirectoryError):
        return absolute, GONE
    except OSError:
        return None
    return absolute, ((info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else GONE)


def record_signature(record: str) -> str:
    """The digest of a listing (`StoryFolder.record`): a folder's signature."""
    return hashlib.blake2b(record.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def record_of_stats(stats: dict[str, list[int]]) -> str:
    """A listing from per-file stats (absolute name -> [size, time]), as an earlier version recorded them."""
    return "".join([listing_entry(name, size, mtime) for name, (size, mtime) in sorted(stats.items())])


def stories_signature(paths: list[Path]) -> str:
    """What the watcher compares with the signature the last build recorded."""
    return scan_story_files(paths).signature


def story_files(paths: list[Path]) -> list[Path]:
    """Story files under `paths` in a stable order; hidden and temporary files are not stories."""
    return [Path(name) for name in scan_story_files(paths).names]


def _story_files_in(folder: str, absolute: str, found: list[tuple[str, str, int, int]]) -> None:
    folders = [(folder, absolute)]
    while folders:
        here, here_absolute = folders.pop()
        with os.scandir(here) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):  # as rglob: a linked folder is not descended (no loops)
                    folders.append((entry.path, f"{here_absolute}/{name}"))
                elif name.lower().endswith(STORY_SUFFIXES) and entry.is_file():
                    try:
                        info = entry.stat()
                    except OSError:
                        continue  # removed since it was listed
                    found.append((f"{here_absolute}/{name}", entry.path, info.st_size, info.st_mtime_ns))


def read_corpus(paths: list[Path], carried: CarriedStories | None = None) -> Corpus:
    """Parse the story files under `paths` and check them together with `carried`, stories a build takes over
    unparsed from its previous generation because their files are unchanged (not under `paths`).

    Carried stories were checked against each other when they were indexed together, so only what a parsed story
    brings is looked at: its id among the carried ids and titles, its title among every id (dictionary lookups,
    not a walk over 100,000 carried stories)."""
    carried = carried if carried is not None else CarriedStories()
    corpus = Corpus(carried=carried)
    parsed: dict[str, list[Story]] = {}
    for path in story_files(paths):
        result = parse_file(path)
        corpus.problems.extend(result.problems)
        if result.story is not None:
            parsed.setdefault(result.story.id, []).append(result.story)
    # Each id the parsed stories have, with every story that has it: a carried one first (as it was indexed).
    by_id: dict[str, list[Story | ShelvedStory]] = {}
    for story_id, stories in sorted(parsed.items(), key=lambda entry: _carried_first(carried, entry[0])):
        number = carried.number_of(story_id)
        by_id[story_id] = [carried.story(number), *stories] if number is not None else stories
    # A carried story whose title is a parsed story's id (each key names one carried story: they were checked together).
    shadowed_carried = [n for story_id in parsed if (n := _carried_key(carried, story_id)) is not None and
                        carried.shelf.ids[n] not in by_id]
    dropped = []
    for number in sorted(shadowed_carried):
        story = carried.story(number)
        _title_is_an_id(corpus, story, by_id[story.key][0])
        dropped.append(number)
    for same_title in by_id.values():
        story = same_title[0]
        if len(same_title) == 1:
            key = title_key(story.title)
            number = carried.number_of(key) if key not in by_id else None
            shadowed = by_id[key][0] if key in by_id else carried.story(number) if number is not None else None
            if shadowed is not None:
                # Lookups take a title or an id (autocomplete sends ids): this title would find the other story.
                _title_is_an_id(corpus, story, shadowed)
            else:
                corpus.stories.append(story)
            continue
        # Which file is right is the editor's call, so neither is indexed until one is fixed.
        for story in same_title:
            others = ", ".join(s.source_file for s in same_title if s is not story)
            corpus.problems.append(Problem(Path(story.source_file), 1, f"same story title {story.title!r} as {others}"))
            if isinstance(story, ShelvedStory):
                dropped.append(story.number)
    corpus.carried = carried.without(dropped) if dropped else carried
    return corpus


def _title_is_an_id(corpus: Corpus, story: "Story | ShelvedStory", other: "Story | ShelvedStory") -> None:
    message = f"title {story.title!r} is the id of {other.title!r}; choose another title"
    corpus.problems.append(Problem(Path(story.source_file), 1, message))


def _carried_first(carried: CarriedStories, story_id: str) -> tuple[int, int]:
    """Ids of carried stories first, in shelf order; then the others, as parsed (a stable sort keeps that order)."""
    number = carried.number_of(story_id)
    return (0, number) if number is not None else (1, 0)


def _carried_key(carried: CarriedStories, key: str) -> int | None:
    """The number of the carried story whose title key is `key`, or None."""
    if carried.shelf is None:
        return None
    number = carried.shelf.number_of_key.get(key)
    return number if number is not None and carried.number_of(carried.shelf.ids[number]) is not None else None
