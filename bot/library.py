"""The stories directory and the index kept in step: add, remove, reindex. No Discord in here.

Every method is blocking (files, parsing, embedding) and is meant to run off the event loop, one at a
time (the caller holds a lock). Each returns a freshly loaded `KnowledgeBase` for the caller to swap in;
the index is rebuilt incrementally into the same directory, so until the swap every question is answered
from the old one. A failed change puts the story files back as they were.
"""

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import index
from index import BuildReport, Embedder, KnowledgeBase, Story, StoryFileError
from index.corpus import story_files
from index.store import file_stats, recorded_file_stats


log = logging.getLogger(__name__)


class LibraryError(Exception):
    """A change that cannot be made; the message is for the moderator, and nothing was changed."""


@dataclass
class Change:
    report: BuildReport
    knowledge_base: KnowledgeBase
    file: Path | None = None  # the story file written or removed, if any
    audited: bool = True  # False when the audit log could not be written


def write_atomically(path: Path, data: bytes) -> None:
    """A hidden temporary file in the same directory, then one rename: never half a story on disk."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".storyadmin-", suffix=".tmp", delete=False) as out:
        try:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        except BaseException:
            os.unlink(out.name)
            raise
    try:
        os.replace(out.name, path)
    except BaseException:  # e.g. a directory in the way: no temporary file is left behind
        os.unlink(out.name)
        raise


class StoryLibrary:
    def __init__(self, stories_dir: Path, index_dir: Path, embedder: Embedder) -> None:
        self.stories_dir = Path(stories_dir)
        self.index_dir = Path(index_dir)
        self.embedder = embedder

    def built_signature(self) -> dict[str, list[int]]:
        """The signature the current index was cleanly built from ({} if unknown, so the first poll reindexes)."""
        return recorded_file_stats(self.index_dir)

    def signature(self) -> dict[str, list[int]]:
        """Names, sizes and modification times of the story files, as a build records them (`BuildReport.file_stats`)."""
        return file_stats(story_files([self.stories_dir]))

    def files_holding(self, story_id: str, indexed: KnowledgeBase) -> list[Path]:
        """The file in the stories directory that the index read this story from (found without parsing any)."""
        file = indexed.source_file(story_id)
        if file is None or not file.is_file() or not file.resolve().is_relative_to(self.stories_dir.resolve()):
            return []
        return [file]

    def relative(self, path: Path | str | None) -> str | None:
        if path is None:
            return None
        try:
            return str(Path(path).relative_to(self.stories_dir))
        except ValueError:
            return str(path)

    def add(self, story: Story, data: bytes, suffix: str, indexed: KnowledgeBase) -> Change:
        """Save a validated story file; the file `indexed` holds the same title in is replaced (and its entries)."""
        self.stories_dir.mkdir(parents=True, exist_ok=True)
        old_files = self.files_holding(story.id, indexed)
        if len(old_files) == 1 and old_files[0].suffix.lower() == suffix:
            target = old_files[0]  # an update keeps the file's name
        else:
            target = self.stories_dir / f"{story.id}{suffix}"
            if target.exists() and target not in old_files:
                raise LibraryError(f"{self.relative(target)} already exists and holds another story; nothing was changed.")
        backups = {path: path.read_bytes() for path in old_files}

        def undo() -> None:
            if target not in backups:
                target.unlink(missing_ok=True)
            for path, content in backups.items():
                write_atomically(path, content)

        try:
            write_atomically(target, data)
            for path in old_files:
                if path != target:
                    path.unlink()
            report, knowledge_base = self._rebuild()
            if knowledge_base.story(story.id) is None:  # only if a file with the same title appeared meanwhile
                problems = "; ".join(p.message for p in report.problems if p.fatal and Path(p.path) == target)
                raise LibraryError(f"the index did not take the story ({problems or 'unknown reason'}); nothing was changed.")
        except BaseException:
            undo()
            self._rebuild_quietly()
            raise
        return Change(report, knowledge_base, target)

    def remove(self, story_id: str, indexed: KnowledgeBase) -> Change:
        """Delete the file `indexed` read the story from, and drop it from the index."""
        old_files = self.files_holding(story_id, indexed)
        if not old_files:
            raise LibraryError(f"no file in {self.stories_dir} holds that story, so there is nothing to remove.")
        backups = {path: path.read_bytes() for path in old_files}
        try:
            for path in old_files:
                path.unlink()
            report, knowledge_base = self._rebuild()
        except StoryFileError as error:
            for path, content in backups.items():
                write_atomically(path, content)
            raise LibraryError(f"{error.problems[0].message}: the last story cannot be removed; nothing was changed.") from error
        except BaseException:
            for path, content in backups.items():
                write_atomically(path, content)
            self._rebuild_quietly()
            raise
        return Change(report, knowledge_base, old_files[0])

    def reindex(self) -> Change:
        """Pick up whatever is in the stories directory now (hand edits included); invalid files are skipped."""
        report, knowledge_base = self._rebuild()
        return Change(report, knowledge_base)

    def _rebuild_quietly(self) -> None:
        """After a failed change: the index back in step with the restored files (the bot still holds the old one)."""
        try:
            index.build([self.stories_dir], self.index_dir, embedder=self.embedder, skip_invalid=True)
        except Exception:  # noqa: BLE001 (the original error is the one to report; the next change or poll retries)
            log.exception("could not rebuild %s after a failed change", self.index_dir)

    def _rebuild(self) -> tuple[BuildReport, KnowledgeBase]:
        report = index.build([self.stories_dir], self.index_dir, embedder=self.embedder, skip_invalid=True)
        return report, index.load(self.index_dir, embedder=self.embedder)
