"""Gather the stories a build starts from: every story file under the given paths, checked together.

Checking together is what catches problems no single file shows, such as two files with one title.
"""

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HasProblems, Problem
from .models import Story, title_key
from .parser import STORY_SUFFIXES, parse_file


@dataclass
class Corpus(HasProblems):
    stories: list[Story] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def stories_signature(paths: list[Path]) -> dict[str, list[int]]:
    """Every story file's absolute name, size and modification time: what a build records and the watcher
    compares, enough to know that nothing was touched (one directory scan, no file opened)."""
    return file_stats(story_file_names(paths))


def file_stats(names: list[str]) -> dict[str, list[int]]:
    """`stories_signature` of story files already found."""
    stats = {}
    for name in names:
        try:
            info = os.stat(name)
        except OSError:
            continue  # reported by the parser, which will be asked since the stats differ
        stats[name if os.path.isabs(name) else os.path.abspath(name)] = [info.st_size, info.st_mtime_ns]
    return stats


def story_files(paths: list[Path]) -> list[Path]:
    """Story files under `paths` in a stable order; hidden and temporary files are not stories."""
    return [Path(name) for name in story_file_names(paths)]


def story_file_names(paths: list[Path]) -> list[str]:
    """`story_files` as sorted strings, for the builder's no-op check: at 100,000 files, making Path objects
    would take longer than the check itself. Directory entries know their own type, so nothing is stat'ed."""
    found: set[str] = set()
    for path in paths:
        if path.is_dir():
            found.update(_story_files_in(str(path)))
        else:
            found.add(str(path))  # a missing one is reported as unreadable by the parser, with its name
    return sorted(found)


def _story_files_in(folder: str) -> list[str]:
    files, folders = [], [folder]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):  # as rglob: a linked folder is not descended (no loops)
                    folders.append(entry.path)
                elif entry.is_file() and os.path.splitext(entry.name)[1].lower() in STORY_SUFFIXES:
                    files.append(entry.path)
    return files


def read_corpus(paths: list[Path]) -> Corpus:
    corpus = Corpus()
    by_id: dict[str, list[Story]] = defaultdict(list)
    for path in story_files(paths):
        result = parse_file(path)
        corpus.problems.extend(result.problems)
        if result.story is not None:
            by_id[result.story.id].append(result.story)
    for same_title in by_id.values():
        if len(same_title) == 1 and (shadowed := by_id.get(title_key(same_title[0].title))):
            # Lookups take a title or an id (autocomplete sends ids): this title would find the other story.
            story = same_title[0]
            problem = f"title {story.title!r} is the id of {shadowed[0].title!r}; choose another title"
            corpus.problems.append(Problem(Path(story.source_file), 1, problem))
            continue
        if len(same_title) == 1:
            corpus.stories.append(same_title[0])
            continue
        # Which file is right is the editor's call, so neither is indexed until one is fixed.
        for story in same_title:
            others = ", ".join(s.source_file for s in same_title if s is not story)
            corpus.problems.append(Problem(Path(story.source_file), 1, f"same story title {story.title!r} as {others}"))
    return corpus
