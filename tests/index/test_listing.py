"""The record of the story files as a base listing and a patch (index/listing.py), and one file looked at as a scan
would list it (`corpus.scanned_entry`)."""

import json
import os
from pathlib import Path

import pytest

import index
from index.corpus import GONE, scan_story_files, scanned_entry
from index.listing import LISTING_PREFIX, Listing, patched_text
from tests.support import write_story

NAMES = ("a.txt", "ba.txt", "b/a.txt", "b/c.json", "c.txt", "d.txt")


def save(folder: Path, name: str, text: str) -> None:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    write_story(folder, name, text)


def folder_of(root: Path, names=NAMES) -> Path:
    folder = root / "s"
    for name in names:
        save(folder, name, f"Title {name}\n- Bullet.[1]\n")
    return folder


def entries_of(folder: Path, names) -> dict:
    """What `_told_change` patches: each file's absolute name and (size, time), or None when it is gone."""
    found = {}
    for name in names:
        absolute, stat = scanned_entry(folder, str(folder / name))
        found[absolute] = None if stat == GONE else stat
    return found


@pytest.mark.parametrize("changed", [
    ["a.txt"],  # the first entry
    ["c.txt"],  # a middle one
    ["d.txt"],  # the last
    ["0.txt", "zz.txt", "b/0.txt", "b/b.txt"],  # new: before the first, after the last, inside and between
    ["a.txt", "b/a.txt", "ba.txt", "c.txt", "new.txt"],  # names that end like another file's
])
def test_a_listing_with_its_patch_laid_over_is_what_a_scan_of_the_same_files_lists(tmp_path, changed):
    folder = folder_of(tmp_path)
    before = scan_story_files([folder]).record
    for number, name in enumerate(changed):
        if (folder / name).exists() and number % 2:
            (folder / name).unlink()
        else:
            save(folder, name, "Changed\n- A longer bullet than before.[1]\n" * (number + 1))
    assert patched_text(before, entries_of(folder, changed)) == scan_story_files([folder]).record
    after = scan_story_files([folder])
    assert patched_text(before, {}) == before and patched_text("", entries_of(folder, after.given_names - {str(folder)})) == after.record


def test_a_file_is_listed_as_a_scan_lists_it_or_not_at_all(tmp_path):
    folder = folder_of(tmp_path)
    scan = {given: (absolute, (size, mtime)) for absolute, given, size, mtime in scan_story_files([folder]).found}
    for name in NAMES:
        assert scanned_entry(folder, str(folder / name)) == scan[str(folder / name)]
    assert scanned_entry(folder, str(folder / "gone.txt")) == (str(folder.absolute() / "gone.txt"), GONE)
    assert scanned_entry(folder, str(folder / "nowhere" / "gone.txt"))[1] == GONE
    assert scanned_entry(folder, str(folder / "c.txt" / "a.txt"))[1] == GONE  # under a file
    (folder / "dir.txt").mkdir()
    assert scanned_entry(folder, str(folder / "dir.txt"))[1] == GONE  # a folder is no story file
    (folder / "linked").symlink_to(folder / "b")
    save(folder, ".hidden/x.txt", "Hidden\n- Bullet.[1]\n")
    write_story(tmp_path, "outside.txt", "Outside\n- Bullet.[1]\n")
    # None: names a scan never lists, so the change must scan instead of trusting them.
    for name in [folder / "linked" / "a.txt", folder / ".hidden" / "x.txt", folder / "notes.md", tmp_path / "outside.txt",
                 f"{folder}/b/../a.txt", f"{folder}//a.txt", f"{folder}/./a.txt", "s/a.txt"]:
        assert scanned_entry(folder, str(name)) is None, name
    listed = {given for _, given, _, _ in scan_story_files([folder]).found}
    assert str(folder / "linked" / "a.txt") not in listed and str(folder / ".hidden" / "x.txt") not in listed


def test_the_patch_is_folded_into_a_new_base_past_its_limit_and_old_bases_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setattr("index.listing.PATCH_MOST", 2)
    folder, out = folder_of(tmp_path), tmp_path / "index"
    out.mkdir()
    first = Listing.of_scan(out, scan_story_files([folder])).kept()
    assert first.base == LISTING_PREFIX + scan_story_files([folder]).signature and not first.patch
    changed = []
    for number, name in enumerate(["a.txt", "new.txt", "c.txt"]):
        save(folder, name, "Changed\n- Bullet.[1]\n" * (number + 2))
        changed.append(name)
        listing = first.patched(entries_of(folder, changed))
        assert listing.signature == scan_story_files([folder]).signature  # base and patch: digested when asked
        kept = listing.kept()
        if len(changed) <= 2:
            assert kept is listing and sorted(out.glob(LISTING_PREFIX + "*")) == [out / first.base]
    assert not kept.patch and kept.base == LISTING_PREFIX + scan_story_files([folder]).signature
    assert (out / kept.base).read_text(encoding="utf-8") == scan_story_files([folder]).record
    index.listing.prune_listings(out, keep=kept.base)
    assert sorted(p.name for p in out.glob(LISTING_PREFIX + "*")) == sorted([first.base, kept.base])  # and the one before
    save(folder, "d.txt", "Changed\n- Bullet.[1]\n")
    newest = Listing.of_scan(out, scan_story_files([folder])).kept()
    index.listing.prune_listings(out, keep=newest.base)
    assert sorted(p.name for p in out.glob(LISTING_PREFIX + "*")) == sorted([kept.base, newest.base])


def test_a_damaged_base_listing_is_found_by_the_next_check_and_rebuilt_from_the_files(stories, tmp_path, embedder):
    """A base listing that is not what its name's digest says is never trusted: the watcher sees the folder as
    changed, and the rebuild compares every file, as without a record."""
    library = index.Library(stories, tmp_path / "index", embedder=embedder)
    library.open()
    library.add(b"Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n", "pier.txt")
    assert not library.changed_on_disk()
    [base] = library.index_dir.glob(LISTING_PREFIX + "*")
    base.write_text(base.read_text(encoding="utf-8").replace("txt", "txz", 1), encoding="utf-8")
    library = index.Library(stories, tmp_path / "index", embedder=embedder)
    library.load()
    assert library.changed_on_disk()
    report = library.reindex().report
    assert report.stories == 5 and not (report.added or report.removed) and not library.changed_on_disk()
    assert index.build([stories], library.index_dir, embedder=embedder).changed is False


@pytest.mark.parametrize("patch", [{"relative.txt": [1, 2]}, {"/a\u0000b": [1, 2]}, {"/a.txt": [1]}, {"/a.txt": [-1, 2]},
                                   {"/a.txt": "1 2"}, ["/a.txt"]])
def test_a_record_whose_patch_is_not_one_is_not_trusted(stories, tmp_path, embedder, patch):
    out = tmp_path / "index"
    index.build([stories], out, embedder=embedder)
    record = out / index.store.STATS
    first = json.loads(record.read_text(encoding="utf-8").split("\n")[0])
    del first["signature"]  # so that the patch is read to tell whether anything changed
    record.write_text(json.dumps(first) + "\n" + json.dumps(patch) + "\n", encoding="utf-8")
    assert not index.store.files_as_recorded(out, scan_story_files([stories]))
    assert index.store.recorded_files(out, index.store.current_path(out)) is None
    assert index.build([stories], out, embedder=embedder).stories == 4


@pytest.mark.parametrize("base", ["../CURRENT", "/etc/passwd", "listing-" + "0" * 31, 7])
def test_a_record_naming_a_base_outside_the_folder_is_not_trusted(stories, tmp_path, embedder, base):
    out = tmp_path / "index"
    index.build([stories], out, embedder=embedder)
    record = out / index.store.STATS
    first, rest = record.read_text(encoding="utf-8").split("\n", 1)
    record.write_text(json.dumps({**json.loads(first), "listing": base}) + "\n" + rest, encoding="utf-8")
    assert index.store.recorded_files(out, index.store.current_path(out)) is None
    os.utime(next(stories.glob("*.txt")))  # touched: the build compares the files, with no record to compare them with
    assert index.build([stories], out, embedder=embedder).stories == 4


def test_the_words_a_delta_adds_are_taken_from_the_end_of_the_vocabulary_in_number_order():
    from index.store import _words_beyond

    grown = {"harbour": 0, "ferry": 1, "fares": 2, "pier": 3, "reopened": 4}
    assert _words_beyond(grown, 3) == ["pier", "reopened"] and _words_beyond(grown, 5) == []
    assert _words_beyond({"pier": 4, "harbour": 0, "reopened": 3, "ferry": 1, "fares": 2}, 3) == ["reopened", "pier"]
