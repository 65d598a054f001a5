"""Build the index incrementally: embed only what changed since the last build.

Embedding is the slow part (about 200 sentences a second on two cores), so a story whose content hash is
unchanged keeps its vectors from the previous generation, and a build with nothing changed writes nothing.
"""

import os
import time
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

import numpy as np

from .corpus import GONE, StoryFolder, read_corpus, scan_story_files, scanned_entry
from .dense import updated_dense
from .embedder import Embedder, embedder_for, encoder_identity
from .errors import IndexFormatError, Problem, StoryFileError
from .lexical import TermCounts
from .listing import Listing
from .models import Story
from .settings import DEFAULT_MODEL
from .shelf import CarriedStories, ShelvedStory
from .store import (
    FACT,
    ITEM_DTYPE,
    NARRATIVE,
    Generation,
    RecordedFiles,
    build_lock,
    current_name,
    item_id,
    read_generation,
    record_stats,
    recorded_files,
    rows_between,
    unchanged_counts,
    write_delta_generation,
    write_generation,
)

# A change is written as a delta beside the base (costing the changed stories) until the delta's rows and the base
# rows it hides pass this share of the base; then the build writes a new base (costing the library, about 15 s of
# CPU at a million claims). Every question searches the delta exactly beside the base and skips the hidden rows,
# so a bigger delta costs each question more; at 5%, the delta's exact search of 50,000 vectors at a million
# claims (about 5 ms) costs no more than the base's own search, and a new base every 5,000 changed stories costs
# each change a few milliseconds on average.
DELTA_SHARE = 0.05
# ...and never below this many rows: an exact search of 1,000 vectors costs well under a millisecond, and a
# small library would otherwise write a new base on every change.
DELTA_FLOOR = 1_000


by_id = attrgetter("id")


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
    # The story files' signature as this build found them before reading any (`corpus.StoryFolder`): a file
    # changed after that differs from it, so whoever watches the folder knows to build again. None when the build was
    # told its files and scanned none: the watcher then compares the folder with the record (`store.files_as_recorded`).
    signature: str | None = ""

    def summary(self) -> str:
        if not self.changed:
            return f"index at {self.out} is up to date: {self.stories} stories, nothing re-embedded ({self.seconds:.2f}s)"
        return (
            f"indexed {self.stories} stories ({len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed): {self.facts} facts, {self.narratives} narratives; "
            f"{self.embedded} embedded, {self.reused} reused; {self.seconds:.2f}s -> {self.out}"
        )


def index_items(stories: list[tuple[int, Story]]) -> tuple[np.ndarray, list[str], list[str]]:
    """Every fact and narrative of these stories (each with its number in the generation): item rows, the texts to
    embed, and the texts for BM25.

    BM25 also sees the story's title, so a question that names the story's subject finds it even when
    no bullet repeats the name; the embedding sees the item alone, so bullets of one story stay apart.
    """
    rows, texts, lexical_texts = [], [], []
    for number, story in stories:
        for kind, claims in ((FACT, story.facts), (NARRATIVE, story.narratives)):
            for position, claim in enumerate(claims):
                rows.append((item_id(story.id, kind, position), number, kind, position))
                texts.append(claim.text)
                lexical_texts.append(f"{story.title}\n{claim.text}")
    return np.array(rows, dtype=ITEM_DTYPE), texts, lexical_texts


def build(
    paths: list[Path], out: Path, *, embedder: Embedder | None = None, model: str | None = None,
    encoder_dir: Path | None = None, skip_invalid: bool = False, progress: bool = False, touched: list[Path] | None = None,
) -> BuildReport:
    """Build or update the index at `out` from story files under `paths`.

    Only files changed since the last clean build are parsed; the stories of the others are carried over from
    the current generation unparsed, with their vectors and word counts (see `_carry_over`). `touched`, the story
    files the caller wrote or deleted since (spelled as under `paths`), spares the scan of the folder: only those
    files are stat'ed and parsed, and the record of the files is the last one with theirs replaced (`_told_change`);
    a file changed by hand meanwhile is left to the next check of the folder against that record.

    Raises `StoryFileError` listing every invalid file unless `skip_invalid`; either way the index
    already at `out` is left exactly as it was until a complete new one replaces it.
    """
    started = time.perf_counter()
    model = embedder.name if embedder else (model or DEFAULT_MODEL)
    # What the index records and compares: the model and its encoder variant, so another variant rebuilds it.
    identity = embedder.identity if embedder else encoder_identity(model)
    scanned_at = current_name(out)
    # A change told its files scans nothing (`_told_change`); any other build scans the folder once, and with nothing
    # touched since the last clean build it stops there: no parsing, no loading, and no lock either, since nothing will
    # be written (so an up-to-date index on a read-only disk loads).
    folder = None if touched is not None else scan_story_files(paths)
    if folder is not None and (unchanged := unchanged_counts(out, folder, identity)):
        return _unchanged(out, *unchanged, folder.signature, started, skip_invalid)
    with build_lock(out):
        # Scanned again under the lock if another build finished while this one waited for it: that process may have
        # changed the files, and a build from the older scan would drop what it just indexed. (A file saved by hand
        # since the scan is picked up by the next build, as one saved just after it would be.)
        if folder is not None and current_name(out) != scanned_at:
            folder = scan_story_files(paths)
            if unchanged := unchanged_counts(out, folder, identity):  # nothing left to do
                return _unchanged(out, *unchanged, folder.signature, started, skip_invalid)
        # The encoder that will embed decides which vectors can be reused: only its own (another variant, or torch
        # where the ONNX export failed, rebuilds everything rather than mixing vectors).
        encoder = embedder or embedder_for(model, out, encoder_dir)
        identity = encoder.identity
        previous = _current_generation(out, identity)
        recorded = recorded_files(out, previous.path) if previous is not None else None
        told = _told_change(recorded, previous, paths, touched) if folder is None else None
        if told is not None:
            carried, to_parse, listing = told
            missing, signature = [], None  # unknown without a scan: the next check compares the folder with the record
        else:
            if folder is None:  # told its files, but the record cannot simply be patched with them
                folder = scan_story_files(paths)
                if unchanged := unchanged_counts(out, folder, identity):
                    return _unchanged(out, *unchanged, folder.signature, started, skip_invalid)
            carried, to_parse = _carry_over(previous, recorded, folder)
            listing, missing, signature = Listing.of_scan(out, folder), folder.missing, folder.signature
        corpus = read_corpus([Path(name) for name in to_parse], carried=carried)
        if corpus.errors and not skip_invalid:
            raise StoryFileError(corpus.errors)
        if not corpus.stories and not corpus.carried:
            where = ", ".join(str(p) for p in paths)
            raise StoryFileError(corpus.errors or [Problem(Path(where), 0, "no story files (.txt or .json) found")])
        report = BuildReport(out, problems=corpus.problems, signature=signature)
        files = {"paths": paths, "unshelved": _unshelved(to_parse, missing, carried, corpus)}
        hashes = {s.id: s.content_hash() for s in corpus.stories}  # the parsed stories'; the carried ones' are on their shelf
        old_hashes = {s.id: _previous_hash(previous, s.id) for s in corpus.stories}
        report.added = [s.title for s in corpus.stories if old_hashes[s.id] is None]
        report.updated = [s.title for s in corpus.stories if old_hashes[s.id] not in (None, hashes[s.id])]
        unchanged = {story_id for story_id, old in old_hashes.items() if old == hashes[story_id]}  # whose vectors are reused
        report.removed = [previous.stories.titles[n] for n in _gone(previous, corpus)]

        if not (report.added or report.updated or report.removed) and _same_files(previous, corpus):
            record_stats(out, listing, corpus.problems, identity, previous.manifest["counts"], **files)
            _count(report, previous.manifest["counts"])
            report.changed = False
            report.seconds = time.perf_counter() - started
            return report

        if _write_delta(out, previous, corpus, hashes, unchanged, identity, encoder, progress, report):
            report.stories = len(corpus.carried) + len(corpus.stories)
            record_stats(out, listing, corpus.problems, identity, _counts_of(report), **files)
            report.seconds = time.perf_counter() - started
            return report
        carried_stories = corpus.carried.stories()  # a new base holds every story: one object each is its cost anyway
        stories: list[Story | ShelvedStory] = sorted([*carried_stories, *corpus.stories], key=by_id)
        numbers = {story.id: number for number, story in enumerate(stories)}
        parsed_items, texts, lexical_texts = index_items([(numbers[s.id], s) for s in corpus.stories])
        old_rows, old_numbers = _carried_rows(previous, carried_stories, numbers)
        items, place = _interleaved(previous, old_rows, old_numbers, parsed_items)
        parsed_vectors, report.embedded, reused = _parsed_vectors(previous, unchanged, numbers, parsed_items, texts, encoder, progress)
        report.reused = reused + len(old_rows)
        vectors = _placed_vectors(previous, old_rows, place, parsed_vectors)

        terms = previous.term_counts() if len(old_rows) else None
        new_row_of_old = np.full(len(previous.items) if previous else 0, -1, dtype=np.int64)
        new_row_of_old[old_rows] = place[: len(old_rows)]
        parsed_terms = TermCounts.of_texts(lexical_texts, vocab=terms.vocab if terms else None).moved(place[len(old_rows):])
        terms = terms.moved(new_row_of_old).joined(parsed_terms) if terms else parsed_terms

        dense = None
        if previous is not None and previous.dense.d == vectors.shape[1]:
            dropped = previous.items["id"][new_row_of_old < 0]
            dense = updated_dense(previous.dense_copy(), dropped, parsed_vectors, parsed_items["id"])
        write_generation(out, model=identity, stories=stories, hashes=hashes, items=items, vectors=vectors, terms=terms, dense=dense)
        _count(report, _counts(items, len(stories)))
        record_stats(out, listing, corpus.problems, identity, _counts_of(report), **files)
    report.seconds = time.perf_counter() - started
    return report


def _previous_hash(previous: Generation | None, story_id: str) -> str | None:
    """The content hash the previous generation recorded for this story, or None if it had no such story."""
    number = previous.stories.number_of_id.get(story_id) if previous is not None else None
    return previous.stories.hashes[number] if number is not None else None


def _gone(previous: Generation | None, corpus) -> list[int]:
    """The numbers of the previous generation's stories no longer indexed: of those not carried (a few, after a
    change), the ones no parsed story has the id of."""
    if previous is None:
        return []
    dropped = corpus.carried.dropped.tolist() if len(corpus.carried) else range(len(previous.stories))
    parsed = {s.id for s in corpus.stories}
    ids = previous.stories.ids
    return [number for number in dropped if ids[number] not in parsed]


def _same_files(previous: Generation | None, corpus) -> bool:
    """Whether every story is read from the file the shelf says (a renamed file changes the index, not its content):
    a carried story is by its making; a parsed one is looked up."""
    if previous is None:
        return False
    shelf = previous.stories
    return all(shelf.source_files[shelf.number_of_id[s.id]] == s.source_file for s in corpus.stories)


def _carry_over(previous: Generation | None, recorded: RecordedFiles | None, folder: StoryFolder) -> tuple[CarriedStories, list[str]]:
    """The current generation's stories whose files have the name, size and time the last clean build of it
    recorded (they need no parsing; nothing if there is no such record), and the files to parse: every file found
    (or named and missing) but the carried stories'. The changed files are found with set operations over the two
    listings (`StoryFolder.changed_since`) and the shelf's file names: only they are looked at one by one.

    Checked together with the parsed ones by `read_corpus`, so a changed file that now takes a carried story's
    title is still caught."""
    try:
        changed = folder.changed_since(recorded.listing.text) if recorded is not None else None
    except (OSError, ValueError):  # the record's base listing is gone or damaged: as if there were no record
        changed = None
    if changed is None:
        return CarriedStories(), sorted(folder.given_names | set(folder.missing))
    shelf = previous.stories
    numbers = shelf.number_of_file
    # Files gone (or no longer under the name they were read from), and files new or changed since the record.
    left_out = set(shelf.source_files).difference(folder.given_names) | changed
    dropped = [numbers[name] for name in left_out if name in numbers]
    if None in left_out:  # stories without a file (none a build makes): never carried
        dropped += [number for number, name in enumerate(shelf.source_files) if name is None]
    carried = CarriedStories(shelf, dropped)
    return carried, sorted((folder.given_names | set(folder.missing)) - carried.source_files())


def _told_change(recorded: RecordedFiles | None, previous: Generation | None, paths: list[Path], touched: list[Path]
                 ) -> tuple[CarriedStories, list[str], Listing] | None:
    """Without scanning the folder: the carried stories, the files to parse and the listing to record, when the
    build is told the files a change wrote or deleted (`touched`) and the last build of the current generation left a
    record for the same folder. Only those files and the ones that build could not index (`unshelved`, parsed by every
    build) are stat'ed, as a scan would list them (`corpus.scanned_entry`); the record is the last one with their
    entries replaced (`Listing.patched`). Else None: scan and compare every file.

    A file saved or deleted by hand meanwhile is not in the record, so the next check of the folder against it (the
    watcher's, `Library.changed_on_disk`, or the next start's) finds it and builds again."""
    if (recorded is None or recorded.unshelved is None or len(paths) != 1 or recorded.paths != [str(paths[0])]
            or not os.path.isdir(paths[0])):
        return None
    entries = {}
    # The record is read from disk, so no name in it is trusted: each file to parse again must be one a scan would find.
    for name in dict.fromkeys([*map(str, touched), *recorded.unshelved]):
        if (found := scanned_entry(paths[0], name)) is None:
            return None  # not where or as a scan lists a story file: spelled otherwise, or a name not to be read
        entries[name] = found
    numbers = previous.stories.number_of_file
    carried = CarriedStories(previous.stories, [numbers[name] for name in entries if name in numbers])
    to_parse = sorted(name for name, (_, found) in entries.items() if found != GONE)
    listing = recorded.listing.patched({absolute: None if found == GONE else found for absolute, found in entries.values()})
    return carried, to_parse, listing


def _unshelved(to_parse: list[str], missing: list[str], carried: CarriedStories, corpus) -> list[str]:
    """The files found that the new generation holds no story of (invalid, or clashing with another story): the
    parsed ones not indexed, and the carried ones `read_corpus` dropped. Every build parses them again."""
    files = set(to_parse).difference(missing, (story.source_file for story in corpus.stories))
    if carried.shelf is not None:
        files.update(carried.shelf.source_files[n] for n in np.setdiff1d(corpus.carried.dropped, carried.dropped).tolist())
    return sorted(file for file in files if file is not None)


def _write_delta(out: Path, previous: Generation | None, corpus, hashes: dict[str, str], unchanged: set[str], identity: str,
                 encoder: Embedder, progress: bool, report: BuildReport) -> bool:
    """Write the change as a new delta beside the previous generation's base, if it has one of this model and the
    delta stays small (see DELTA_SHARE); whether it did. Costs the changed stories and the delta, not the base."""
    if previous is None or not corpus.carried:
        return False
    base = previous.base
    part = previous.story_part if previous.story_part is not None else np.zeros(len(previous.stories), dtype=np.int8)
    local = previous.story_local if previous.story_local is not None else np.arange(len(previous.stories))
    visible = np.zeros(len(base.stories), dtype=bool)
    carried_numbers = corpus.carried.numbers()
    visible[local[carried_numbers[part[carried_numbers] == 0]]] = True
    hidden = np.flatnonzero(~visible)
    hidden_rows = int((base.starts[hidden + 1] - base.starts[hidden]).sum())
    carried = [corpus.carried.story(n) for n in carried_numbers[part[carried_numbers] == 1].tolist()]
    stories: list[Story | ShelvedStory] = sorted([*carried, *corpus.stories], key=by_id)
    numbers = {story.id: number for number, story in enumerate(stories)}
    parsed_items, texts, lexical_texts = index_items([(numbers[s.id], s) for s in corpus.stories])
    old_rows, old_numbers = _carried_rows(previous, carried, numbers)
    if hidden_rows + len(old_rows) + len(parsed_items) > max(DELTA_FLOOR, DELTA_SHARE * len(base.items)):
        return False
    items, place = _interleaved(previous, old_rows, old_numbers, parsed_items)
    parsed_vectors, report.embedded, reused = _parsed_vectors(previous, unchanged, numbers, parsed_items, texts, encoder, progress)
    report.reused = reused + len(old_rows) + len(base.items) - hidden_rows
    vectors = _placed_vectors(previous, old_rows, place, parsed_vectors)

    vocab = previous.delta.terms.vocab if previous.delta is not None else base.terms.vocab
    terms = TermCounts.of_texts(lexical_texts, vocab=vocab).moved(place[len(old_rows):])
    if previous.delta is not None and len(previous.delta.items):
        new_row_of_previous = np.full(len(previous.items), -1, dtype=np.int64)
        new_row_of_previous[old_rows] = place[: len(old_rows)]
        old = previous.delta.terms
        carried_terms = TermCounts(np.asarray(old.rows), np.asarray(old.terms), np.asarray(old.counts), terms.vocab)
        terms = carried_terms.moved(new_row_of_previous[previous.row_maps[1]]).joined(terms)

    kinds = base.kinds - base.kinds_of(hidden) + np.bincount(items["kind"], minlength=2)  # the hidden stories' rows only
    counts = {"stories": len(corpus.carried) + len(corpus.stories), "facts": int(kinds[FACT]), "narratives": int(kinds[NARRATIVE])}
    write_delta_generation(out, previous, model=identity, stories=stories, items=items, vectors=vectors, terms=terms,
                           hidden=hidden, hashes=hashes,
                           counts=counts)
    report.facts, report.narratives = counts["facts"], counts["narratives"]
    return True


def _carried_rows(previous: Generation | None, carried: list[ShelvedStory], numbers: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The previous generation's rows of the carried stories, in order, and each row's story's new number: from the
    stories' first rows (a delta's few stories cost a few rows, not a pass over the million)."""
    if previous is None or not carried:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int32)
    old_number = np.fromiter((story.number for story in carried), dtype=np.int64, count=len(carried))
    new_number = np.fromiter((numbers[story.id] for story in carried), dtype=np.int32, count=len(carried))
    order = np.argsort(old_number, kind="stable")
    first, last = previous.rows_of(old_number[order])
    return rows_between(first, last), np.repeat(new_number[order], last - first)


def _interleaved(previous: Generation | None, old_rows: np.ndarray, old_numbers: np.ndarray, parsed_items: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The carried rows (`_carried_rows`) and the parsed ones as one table in story order, and where each row went
    (carried ones first, then parsed ones). Carried rows keep their order within their story, so sorting by story
    number alone places every row."""
    carried_items = previous.items[old_rows] if previous is not None else parsed_items[:0]
    if len(old_rows):
        carried_items["story"] = old_numbers
    order = np.argsort(np.concatenate([carried_items["story"], parsed_items["story"]]), kind="stable")
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))
    return np.concatenate([carried_items, parsed_items])[order], place


def _placed_vectors(previous: Generation | None, old_rows: np.ndarray, place: np.ndarray, parsed_vectors: np.ndarray) -> np.ndarray:
    """The vectors of `_interleaved`'s table: the carried rows' from the previous generation, then the parsed ones'."""
    vectors = np.empty((len(place), parsed_vectors.shape[1]), dtype=np.float32)
    if len(old_rows):
        vectors[place[: len(old_rows)]] = previous.vectors[old_rows]
    vectors[place[len(old_rows):]] = parsed_vectors
    return vectors


def _parsed_vectors(previous: Generation | None, unchanged: set[str], numbers: dict[str, int], items: np.ndarray,
                    texts: list[str], encoder: Embedder, progress: bool) -> tuple[np.ndarray, int, int]:
    """Vectors for the parsed stories' items: the previous generation's for the stories `unchanged` (ids whose content
    hash is as before: a file touched or renamed, or a build without a record of the files), else embedded."""
    same = np.array([numbers[story_id] for story_id in unchanged], dtype=np.int64)
    rows = np.flatnonzero(np.isin(items["story"], same)) if previous is not None else np.array([], dtype=np.int64)
    if len(rows):
        old_rows = previous.rows_of_ids(items["id"][rows])
        present = previous.items["id"][old_rows] == items["id"][rows]
        rows, old_rows = rows[present], old_rows[present]
    to_embed = np.setdiff1d(np.arange(len(items)), rows)
    embedded = encoder.encode([texts[row] for row in to_embed], progress=progress) if len(to_embed) else None
    dimension = embedded.shape[1] if embedded is not None else previous.vectors.shape[1]
    vectors = np.zeros((len(items), dimension), dtype=np.float32)
    if len(rows):
        vectors[rows] = previous.vectors[old_rows]
    if embedded is not None:
        vectors[to_embed] = embedded
    return vectors, len(to_embed), len(rows)


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


def _unchanged(out: Path, counts: dict, problems: list[Problem], signature: str, started: float, skip_invalid: bool) -> BuildReport:
    """Nothing changed: the recorded counts, and the invalid files the last build left out (read from its record)."""
    if problems and not skip_invalid:
        raise StoryFileError(problems)
    return BuildReport(out, stories=counts["stories"], facts=counts["facts"], narratives=counts["narratives"], changed=False,
                       seconds=time.perf_counter() - started, problems=problems, signature=signature)


def _counts(items: np.ndarray, stories: int) -> dict:
    return {"stories": stories, "facts": int((items["kind"] == FACT).sum()), "narratives": int((items["kind"] == NARRATIVE).sum())}


def _counts_of(report: BuildReport) -> dict:
    return {"stories": report.stories, "facts": report.facts, "narratives": report.narratives}


def _count(report: BuildReport, counts: dict) -> None:
    report.stories, report.facts, report.narratives = counts["stories"], counts["facts"], counts["narratives"]
