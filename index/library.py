"""The front door: a stories folder and the index built from it, kept in step. No Discord in here.

    library = index.Library(Path("seeds"), Path("data/index"))
    report = library.open()                 # build what changed (invalid files skipped), then load
    library.ask("what did the council decide?")
    library.add(data, "upload.txt")         # validate, save into the folder, reindex
    library.changed_on_disk()               # cheap: names, sizes and times of the story files

Every method blocks (files, parsing, embedding) and belongs off any event loop. Changes run one at a time
(a lock); each builds into the same index directory and swaps the newly loaded index in with one
assignment only when it is complete, so until then every question is answered from the old one. A change
that fails puts the story files back as they were.

Several processes may share one stories folder and index folder (the shards of one bot): a change holds a
lock file in the index folder for its whole course and starts from the newest generation, whichever
process built it; `refresh` loads a newer generation another process built, reading only.
"""

import errno
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .answer import Answer, AnswerStory
from .builder import BuildReport, build
from .corpus import scan_story_files, stories_signature
from .embedder import Embedder
from .errors import IndexFormatError, Problem, StoryFileError
from .files import write_atomically
from .models import Story
from .parser import MAX_FILE_BYTES, STORY_SUFFIXES, ParseResult, parse_bytes
from .retrieval import KnowledgeBase, load
from .store import change_lock, current_path, files_as_recorded

log = logging.getLogger(__name__)

READ_ONLY = {errno.EACCES, errno.EPERM, errno.EROFS}  # what writing into a folder that cannot be written raises


class LibraryError(Exception):
    """A change that cannot be made; the message is for whoever asked, and nothing was changed."""


@dataclass
class Change:
    """What a change did: the build's report, and the story files it touched."""

    report: BuildReport
    file: Path | None = None  # the story file written or removed, if any
    # Each story added, updated or removed, by title: its file, relative to the stories folder.
    files: dict[str, str | None] = field(default_factory=dict)


class Library:
    max_file_bytes = MAX_FILE_BYTES
    story_suffixes = STORY_SUFFIXES

    def __init__(
        self, stories_dir: Path, index_dir: Path, *, model: str | None = None, encoder_dir: Path | None = None,
        embedder: Embedder | None = None, knowledge_base: KnowledgeBase | None = None,
    ) -> None:
        """`knowledge_base`, if given, is an index already loaded from `index_dir`, served as it is."""
        self.stories_dir, self.index_dir = Path(stories_dir), Path(index_dir)
        self._model, self._encoder_dir = model, encoder_dir
        self._embedder = embedder or (knowledge_base.embedder if knowledge_base else None)
        self._knowledge_base = knowledge_base
        self._signature: str | None = None  # of the story files as last indexed; read from the index on first use
        self._catalog: tuple[KnowledgeBase, list[AnswerStory]] | None = None
        self._changing = threading.Lock()

    # ---------------------------------------------------------------- opening

    def open(self) -> BuildReport:
        """Build or update the index from the stories folder (only changed stories are embedded; invalid files
        are skipped and listed in the report), then load it.

        An index folder that cannot be written (a read-only disk or mount) while story files changed is loaded as
        it is, with one warning: answering from the last index beats not starting."""
        try:
            report = self._build()
        except OSError as error:
            if error.errno not in READ_ONLY or not self._loadable():
                raise
            log.warning("the index folder %s cannot be written (%s), so the story files changed in %s since it was built are "
                        "not indexed: answering from the index as it is", self.index_dir, error.strerror, self.stories_dir)
            counts = self.load().generation.manifest["counts"]
            # As the files are now: the watcher tries again when they next change, not on every poll.
            self._signature = stories_signature([self.stories_dir])
            return BuildReport(self.index_dir, stories=counts["stories"], facts=counts["facts"], narratives=counts["narratives"],
                               changed=False, signature=self._signature)
        self.load()
        return report

    def load(self) -> KnowledgeBase:
        """Load the index as it is on disk, without building."""
        self._knowledge_base = load(self.index_dir, embedder=self._embedder, model=self._model, encoder_dir=self._encoder_dir)
        self._embedder = self._knowledge_base.embedder
        return self._knowledge_base

    def generation_moved(self) -> bool:
        """Whether the index folder now points at another generation than the one answering (another process
        changed the stories). Reads one small file."""
        try:
            return current_path(self.index_dir).name != self.knowledge_base.generation.path.name
        except IndexFormatError:
            return False  # nothing loadable to move to: keep answering from the index loaded

    def refresh(self) -> bool:
        """Load the index folder's current generation if another process built a newer one; whether it did.
        Never builds and never writes: a process that only answers leaves the folder as it found it."""
        with self._changing:
            return self._catch_up()

    @property
    def knowledge_base(self) -> KnowledgeBase:
        """The index questions are answered from now; replaced, never changed, by each change."""
        if self._knowledge_base is None:
            raise RuntimeError("the library is not open yet: call open() or load() first")
        return self._knowledge_base

    # ---------------------------------------------------------------- reading

    def ask(self, question: str, *, about: str | None = None) -> Answer:
        """`KnowledgeBase.ask`: `about` is the story of the conversation (id or title), if any; raises
        `QuestionError` for a question that cannot be asked."""
        return self.knowledge_base.ask(question, about=about)

    def story(self, title: str, *, guess: bool = False) -> AnswerStory | None:
        """A story's full card by its title (spacing, invisible characters and case aside) or id; with
        `guess`, also the one title `title` clearly means (a typo or two)."""
        return self.knowledge_base.story(title, guess=guess)

    def find_title(self, title: str, *, guess: bool = False) -> str | None:
        """The title of the story `story` would return, read from the catalog without loading the story."""
        knowledge_base = self.knowledge_base
        number = knowledge_base.title_index.find(title, guess=guess)
        return knowledge_base.generation.stories.titles[number] if number is not None else None

    def title_choices(self, typed: str, limit: int) -> list[tuple[str, str]]:
        """Autocomplete: (title, id) of the best `limit` stories for what has been typed, newest first before
        any typing. From the catalog columns in memory: no story file is read."""
        knowledge_base = self.knowledge_base
        shelf = knowledge_base.generation.stories
        return [(shelf.titles[n], shelf.ids[n]) for n in knowledge_base.title_index.matching(typed, limit)]

    def catalog(self) -> list[AnswerStory]:
        """Every story's card, newest first (undated last); made again only after a change."""
        knowledge_base = self.knowledge_base
        if self._catalog is None or self._catalog[0] is not knowledge_base:
            self._catalog = (knowledge_base, knowledge_base.catalog())
        return self._catalog[1]

    def titles(self) -> list[str]:
        return self.knowledge_base.titles()

    def versions(self) -> dict[str, str]:
        """Every story's id and content hash (`Story.content_hash`) in the index answering now, from its manifest:
        no story is read. A story whose hash differs from one recorded earlier has changed since."""
        return dict(self.knowledge_base.generation.content_hashes())

    def story_model(self, title: str, *, guess: bool = False) -> Story | None:
        """A story as indexed (the `Story` model, not its card), by title or id (with `guess`, as `story`); None
        when there is none."""
        return self.knowledge_base.story_model(title, guess=guess)

    def changed_on_disk(self) -> bool:
        """Whether the story files (names, sizes, modification times) differ from what was last indexed."""
        folder = scan_story_files([self.stories_dir])
        if self._signature is None:  # compared with what the index was built from, so a file saved since is picked up
            if not files_as_recorded(self.index_dir, folder):
                return True
            self._signature = folder.signature
        return folder.signature != self._signature

    def relative(self, path: Path | str | None) -> str | None:
        """A story file's name as shown to people: relative to the stories folder."""
        if path is None:
            return None
        try:
            return str(Path(path).relative_to(self.stories_dir))
        except ValueError:
            return str(path)

    # ---------------------------------------------------------------- changing

    def validate(self, data: bytes, filename: str) -> ParseResult:
        """Parse an uploaded story without saving anything: the story, or `line N:` errors, and warnings."""
        path = Path(filename)
        suffix = path.suffix.lower()
        if suffix not in STORY_SUFFIXES:
            return ParseResult(path, problems=[Problem(path, 1, f"not a story file: the name must end in {' or '.join(STORY_SUFFIXES)}")])
        return parse_bytes(data, path, json_format=suffix == ".json")

    def add(self, data: bytes, filename: str) -> Change:
        """Validate and save a story file, then index it; the file the index holds the same title in is
        replaced (and its entries). Raises `StoryFileError` for an invalid file, `LibraryError` for a change
        that cannot be made; either way nothing changes."""
        result = self.validate(data, filename)
        if result.errors:
            raise StoryFileError(result.errors)
        story, suffix = result.story, Path(filename).suffix.lower()
        with self._exclusive():
            indexed = self.knowledge_base
            self.stories_dir.mkdir(parents=True, exist_ok=True)
            old_files = self._files_holding(story.id, indexed)
            if len(old_files) == 1 and old_files[0].suffix.lower() == suffix:
                target = old_files[0]  # an update keeps the file's name
            else:
                target = self.stories_dir / f"{story.id}{suffix}"
                if target.exists() and target not in old_files:
                    raise LibraryError(f"{self.relative(target)} already exists and holds another story; nothing was changed.")
            backups = {path: path.read_bytes() for path in old_files}
            try:
                write_atomically(target, data)
                for path in old_files:
                    if path != target:
                        path.unlink()
                report, knowledge_base = self._rebuild(touched=[target, *old_files])
                if knowledge_base.story(story.id) is None:  # only if a file with the same title appeared meanwhile
                    problems = "; ".join(p.message for p in report.problems if p.fatal and Path(p.path) == target)
                    raise LibraryError(f"the index did not take the story ({problems or 'unknown reason'}); nothing was changed.")
            except BaseException:
                if target not in backups:
                    target.unlink(missing_ok=True)
                self._restore(backups)
                raise
            return self._swap(report, knowledge_base, indexed, target)

    def remove(self, title: str) -> Change:
        """Delete the file the index read the story (by exact title or id) from, and drop it from the index."""
        with self._exclusive():
            indexed = self.knowledge_base
            old_files = self._files_holding(title, indexed)
            if not old_files:
                raise LibraryError(f"no file in {self.stories_dir} holds that story, so there is nothing to remove.")
            backups = {path: path.read_bytes() for path in old_files}
            try:
                for path in old_files:
                    path.unlink()
                report, knowledge_base = self._rebuild(touched=old_files)
            except StoryFileError as error:
                self._restore(backups, rebuild=False)
                raise LibraryError(f"{error.problems[0].message}: the last story cannot be removed; nothing was changed.") from error
            except BaseException:
                self._restore(backups)
                raise
            return self._swap(report, knowledge_base, indexed, old_files[0])

    def reindex(self) -> Change:
        """Pick up whatever is in the stories folder now (hand edits included); invalid files are skipped."""
        with self._exclusive():
            indexed = self.knowledge_base
            report, knowledge_base = self._rebuild()
            return self._swap(report, knowledge_base, indexed)

    # ---------------------------------------------------------------- inside

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """A change's whole course, one at a time: among this process's threads and among the processes sharing
        the index folder; it starts from the newest generation, which another process may have built."""
        with self._changing, change_lock(self.index_dir):
            self._catch_up()
            yield

    def _catch_up(self) -> bool:
        if not self.generation_moved():
            return False
        self.load()
        self._signature = None  # the story files as the new generation saw them, read again on the next check
        log.info("answering from %s, built by another process", self.knowledge_base.path.name)
        return True

    def _files_holding(self, title: str, indexed: KnowledgeBase) -> list[Path]:
        """The file in the stories folder that the index read this story from (found without parsing any)."""
        file = indexed.source_file(title)
        if file is None or not file.is_file() or not file.resolve().is_relative_to(self.stories_dir.resolve()):
            return []
        return [file]

    def _swap(self, report: BuildReport, after: KnowledgeBase, before: KnowledgeBase, file: Path | None = None) -> Change:
        files = {title: self.relative(after.source_file(title)) for title in [*report.added, *report.updated]}
        files |= {title: self.relative(before.source_file(title)) for title in report.removed}
        self._knowledge_base = after  # questions already running keep the one they started with
        # As the build found or recorded the files (None: read from the record when next checked): an edit made since,
        # or during a change told its files (which scans nothing), is picked up by the next check.
        self._signature = report.signature
        return Change(report, file, files)

    def _restore(self, backups: dict[Path, bytes], *, rebuild: bool = True) -> None:
        """After a failed change: the files as they were, and the index back in step with them."""
        for path, content in backups.items():
            write_atomically(path, content)
        if not rebuild:
            return
        try:
            self._build()
        except Exception:  # noqa: BLE001 (the original error is the one to report; the next change or poll retries)
            log.exception("could not rebuild %s after a failed change", self.index_dir)

    def _loadable(self) -> bool:
        try:
            current_path(self.index_dir)
        except IndexFormatError:
            return False
        return True

    def _build(self, touched: list[Path] | None = None) -> BuildReport:
        """`touched`: the story files this change wrote or deleted (the build stats and parses those alone)."""
        return build([self.stories_dir], self.index_dir, embedder=self._embedder, model=self._model,
                     encoder_dir=self._encoder_dir, skip_invalid=True, touched=touched)

    def _rebuild(self, touched: list[Path] | None = None) -> tuple[BuildReport, KnowledgeBase]:
        report = self._build(touched)
        return report, load(self.index_dir, embedder=self._embedder, model=self._model, encoder_dir=self._encoder_dir)
