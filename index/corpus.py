"""Gather the stories a build starts from: every story file under the given paths, checked together.

Checking together is what catches problems no single file shows, such as two files with one title.
"""

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


def story_files(paths: list[Path]) -> list[Path]:
    """Story files under `paths` in a stable order; hidden and temporary files are not stories."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(
                f for f in path.rglob("*")
                if f.is_file() and f.suffix.lower() in STORY_SUFFIXES
                and not any(part.startswith(".") for part in f.relative_to(path).parts)
            )
        elif path.exists():
            found.add(path)
        else:
            found.add(path)  # reported as unreadable by the parser, with its name
    return sorted(found)


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
            corpus.problems.append(Problem(Path(story.source_file), 1, f"title {story.title!r} is the id of {shadowed[0].title!r}; choose another title"))
            continue
        if len(same_title) == 1:
            corpus.stories.append(same_title[0])
            continue
        # Which file is right is the editor's call, so neither is indexed until one is fixed.
        for story in same_title:
            others = ", ".join(s.source_file for s in same_title if s is not story)
            corpus.problems.append(Problem(Path(story.source_file), 1, f"same story title {story.title!r} as {others}"))
    return corpus
