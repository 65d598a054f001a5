"""The record of the story files an index was built from, kept like the index itself: an immutable base and a patch.

    DIR/listing-<digest>    a scan's listing (`StoryFolder.record`: every story file's absolute name, size and time),
                            written once, named by its digest (`corpus.record_signature`) and never written again
    DIR/story_files.jsonl   line 1 names the base (`store.record_stats`); line 2 is the patch: absolute name ->
                            [size, time], or null for a file gone, for every file changed since the base was written

A change that knows the files it touched (`Library.add`, `remove`) stats those alone and puts their entries in the
patch: it reads and writes the patch, never the library's listing (6.7 MB at 100,000 files). What compares the record
with a scan (the no-op check at start, the watcher, a build that scanned) lays the patch over the base: the
listing's entries are sorted by name, so each patched name is found by bisection and the result is one join in C,
compared with the scan's listing as a string (`Listing.lists`).
"""

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import StoryFolder, listing_entry, record_signature
from .files import write_atomically

LISTING_PREFIX = "listing-"
LISTING_NAME = re.compile(LISTING_PREFIX + "[0-9a-f]{32}")  # what a record may name as its base: a file in the folder
LISTINGS_KEPT = 2  # the record's base and the one before, so a reader of the record before this one still finds it
# The patch is folded into a new base when it has more entries than this. A change reads and writes the patch whole
# (JSON parsed and written in C: 0.6 ms of CPU for 1,000 entries), and a new base costs the whole listing once (laid
# over, digested, written and fsynced: 40 ms of CPU, 50-80 ms wall, at 100,000 files; measured on this project's
# machine). At 1,000 entries a change pays at most 0.6 ms for the patch, and the new base costs each change 0.04 ms
# on average; a longer patch would also slow laying it over the base, which the watcher's first check after every
# change does (bisection per entry: 12 ms for 1,000 entries against 8 ms for two, at 100,000 files).
PATCH_MOST = 1_000


@dataclass(frozen=True)
class Listing:
    """The story files as the last build knew them: a base listing in the index folder and the entries changed since.

    `base` None means the base is `inline` (a scan's listing, or a record written before this form), not yet a file."""

    root: Path
    base: str | None
    patch: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    inline: str | None = field(default=None, repr=False)
    known_signature: str | None = None  # the whole listing's digest, when known without laying the patch over the base

    @classmethod
    def of_scan(cls, root: Path, folder: StoryFolder) -> "Listing":
        return cls(root, None, {}, folder.record, folder.signature)

    @functools.cached_property
    def text(self) -> str:
        """The whole listing, as a scan of the same files would make it (`StoryFolder.record`)."""
        return self._laid_over(self.base_text)

    @functools.cached_property
    def base_text(self) -> str:
        """The base listing; `ValueError` if its file is not the one its name's digest says (damaged or replaced)."""
        text = self._unchecked_base()
        if self.inline is None and record_signature(text) != self.base[len(LISTING_PREFIX):]:
            raise ValueError(f"{self.base} is not the listing its name says")
        return text

    @property
    def signature(self) -> str:
        """The whole listing's digest: a scan's `StoryFolder.signature` when the files are as recorded."""
        if self.known_signature is not None:
            return self.known_signature
        if not self.patch and self.base is not None:
            return self.base[len(LISTING_PREFIX):]  # named by its digest
        return record_signature(self.text)

    def lists(self, record: str) -> bool:
        """Whether this listing is `record` (a scan's `StoryFolder.record`): laid over its base and compared whole. No
        digest is made, nor the base's checked: equal to what the scan found is the answer, whatever the base holds."""
        return self._laid_over(self._unchecked_base()) == record

    def _unchecked_base(self) -> str:
        return self.inline if self.inline is not None else (self.root / self.base).read_bytes().decode("utf-8", "surrogateescape")

    def _laid_over(self, base: str) -> str:
        return patched_text(base, self.patch) if self.patch else base

    def patched(self, entries: dict[str, tuple[int, int] | None]) -> "Listing":
        """This listing with these files' entries (absolute name -> (size, time), or None: not there) replaced."""
        return Listing(self.root, self.base, {**self.patch, **entries}, self.inline)

    def kept(self) -> "Listing":
        """This listing as the record keeps it: its base written as a file if it is not one yet, and the patch folded
        into a new base past PATCH_MOST entries (see there)."""
        if self.base is not None and len(self.patch) <= PATCH_MOST:
            return self
        text = self.text
        signature = self.known_signature if self.known_signature is not None and not self.patch else record_signature(text)
        name = LISTING_PREFIX + signature
        data = text.encode("utf-8", "surrogateescape")
        path = self.root / name
        try:
            written = path.stat().st_size == len(data)  # the same listing, written by an earlier build
        except OSError:
            written = False
        if not written:
            write_atomically(path, data)
        return Listing(self.root, name, {}, None, signature)


def read_patch(value) -> dict[str, tuple[int, int] | None]:
    """Line 2 of the record, read from disk and not trusted: `ValueError` unless every name is absolute and free of
    the separator, and every entry two whole numbers or null."""
    if not isinstance(value, dict):
        raise ValueError("the patch is not an object")
    patch = {}
    for name, stat in value.items():
        if not name.startswith("/") or "\0" in name:
            raise ValueError(f"the patch names {name!r}")
        if stat is not None:
            if not (isinstance(stat, list) and len(stat) == 2 and all(type(n) is int and n >= 0 for n in stat)):
                raise ValueError(f"the patch records {stat!r} for {name!r}")
            stat = (stat[0], stat[1])
        patch[name] = stat
    return patch


def prune_listings(root: Path, keep: str) -> None:
    """Remove the base listings no record names: all but `keep` and the newest other one (that a reader of the
    record before may be reading); a killed build's unreferenced one goes with them."""
    listings = sorted((p for p in root.glob(LISTING_PREFIX + "*") if p.name != keep), key=lambda p: p.stat().st_mtime)
    for path in listings[: max(0, len(listings) - (LISTINGS_KEPT - 1))]:
        path.unlink(missing_ok=True)


def patched_text(text: str, patch: dict[str, tuple[int, int] | None]) -> str:
    """The listing `text` (sorted by name) with each patched file's entry replaced, added or (None) removed."""
    pieces, at = [], 0
    for name in sorted(patch):
        start = _place(text, name, at)
        pieces.append(text[at:start])
        at = start
        if start < len(text) and _name_at(text, start) == name:
            at = text.index("\0", text.index("\0", start + len(name) + 1) + 1) + 1  # past the size and the time
        if (stat := patch[name]) is not None:
            pieces.append(listing_entry(name, *stat))
    pieces.append(text[at:])
    return "".join(pieces)


def _entry_start(text: str, position: int) -> int:
    """Where the first entry at or after `position` starts. Only a name starts with "/" (sizes and times are digits),
    so an entry starts after each "\\0" followed by "/"."""
    if position <= 0:
        return 0
    found = text.find("\0/", position - 1)
    return found + 1 if found >= 0 else len(text)


def _name_at(text: str, start: int) -> str:
    return text[start:text.index("\0", start)]


def _place(text: str, name: str, low: int) -> int:
    """Where `name`'s entry is or would go in `text` (sorted by name), searching from the entry at `low`: the start
    of the first entry whose name is not before it, or the end. Bisection over the characters, each probe moved to
    the next entry's start."""
    high = len(text)
    while low < high:
        middle = _entry_start(text, (low + high) // 2)
        probe = middle if middle < high else low  # no entry starts between the middle and `high`: look at `low`'s
        if _name_at(text, probe) < name:
            low = _entry_start(text, probe + 1)
        else:
            high = probe
    return low
