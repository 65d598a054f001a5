"""Gather the stories a build starts from: every story file under the given paths, checked together.

Checking together is what catches problems no single file shows, such as two files with one title.
"""

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HasProblems, Problem
from .models import Story, title_key
from .parser import STORY_SUFFIXES, parse_file
from .shelf import ShelvedStory


@dataclass
class Corpus(HasProblems):
    stories: list[Story] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    carried: list[ShelvedStory] = field(default_factory=list)  # stories of unchanged files, checked with the rest




@dataclass(frozen=True)
class StoryFolder:
    """The story files under some paths as one scan found them: what a build reads, records and compares.

    `names` are the files to parse, sorted, as the paths spell them (a named file that is missing is kept, so
    the parser reports it); `stats` maps each file found to its absolute name's [size, modification time];
    `signature` is a digest of those stats, so "nothing was touched" is one string comparison.
    """

    names: list[str]
    stats: dict[str, list[int]]
    signature: str
    absolute: dict[str, str]  # each file found, by its name in `names`: the name its stats are under


def scan_story_files(paths: list[Path]) -> StoryFolder:
    """One pass over the folders: each entry's type comes from the directory listing and each story file is
    stat'ed once (no file is opened). At 100,000 files this is the whole cost of an unchanged build."""
    found: dict[str, tuple[str, list[int]]] = {}
    for path in paths:
        given = str(path)
        if os.path.isdir(given):
            absolute = os.path.abspath(given)
            for name, info in _story_files_in(given):
                found[name] = (absolute + name[len(given):], [info.st_size, info.st_mtime_ns])
        else:
            try:
                info = os.stat(given)
            except OSError:
                found.setdefault(given, ("", []))  # reported as unreadable by the parser, with its name
                continue
            found[given] = (os.path.abspath(given), [info.st_size, info.st_mtime_ns])
    names = sorted(found)
    stats = {found[name][0]: found[name][1] for name in names if found[name][1]}
    return StoryFolder(names, stats, stats_signature(stats), {name: found[name][0] for name in names if found[name][1]})


def stats_signature(stats: dict[str, list[int]]) -> str:
    """A digest of story files' names, sizes and times ("\\0" cannot occur in a file name)."""
    listing = "".join(f"{name}\0{size}\0{mtime}\0" for name, (size, mtime) in sorted(stats.items()))
    return hashlib.blake2b(listing.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def stories_signature(paths: list[Path]) -> str:
    """What the watcher compares with the signature the last build recorded."""
    return scan_story_files(paths).signature


def story_files(paths: list[Path]) -> list[Path]:
    """Story files under `paths` in a stable order; hidden and temporary files are not stories."""
    return [Path(name) for name in scan_story_files(paths).names]


def _story_files_in(folder: str) -> list[tuple[str, os.stat_result]]:
    files, folders = [], [folder]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):  # as rglob: a linked folder is not descended (no loops)
                    folders.append(entry.path)
                elif entry.is_file() and os.path.splitext(entry.name)[1].lower() in STORY_SUFFIXES:
                    try:
                        files.append((entry.path, entry.stat()))
                    except OSError:
                        continue  # removed since it was listed
    return files


def read_corpus(paths: list[Path], carried: list[ShelvedStory] = ()) -> Corpus:
    """Parse the story files under `paths` and check them together with `carried`, stories a build takes over
    unparsed from its previous generation because their files are unchanged (not under `paths`)."""
    corpus = Corpus()
    by_id: dict[str, list[Story | ShelvedStory]] = defaultdict(list)
    for story in carried:
        by_id[story.id].append(story)
    for path in story_files(paths):
        result = parse_file(path)
        corpus.problems.extend(result.problems)
        if result.story is not None:
            by_id[result.story.id].append(result.story)
    for same_title in by_id.values():
        if len(same_title) == 1 and (shadowed := by_id.get(title_key(same_title[0].title))):
            # Lookups take a title or an id (autocomplete sends ids): this title would find the other story.
            story = same_title[0]
            message = f"title {story.title!r} is the id of {shadowed[0].title!r}; choose another title"
            corpus.problems.append(Problem(Path(story.source_file), 1, message))
            continue
        if len(same_title) == 1:
            (corpus.carried if isinstance(same_title[0], ShelvedStory) else corpus.stories).append(same_title[0])
            continue
        # Which file is right is the editor's call, so neither is indexed until one is fixed.
        for story in same_title:
            others = ", ".join(s.source_file for s in same_title if s is not story)
            corpus.problems.append(Problem(Path(story.source_file), 1, f"same story title {story.title!r} as {others}"))
    return corpus
