"""`index.Library` on its own: a change that fails at any step leaves the files and the index as they were."""

import json
import shutil
from pathlib import Path

import pytest

import index
from index.files import write_atomically
from tests.support import read_only, write_story

STORIES = Path(__file__).parents[1] / "bot" / "stories"


@pytest.fixture
def library(tmp_path, embedder) -> index.Library:
    folder = tmp_path / "stories"
    shutil.copytree(STORIES, folder)
    library = index.Library(folder, tmp_path / "index", embedder=embedder)
    library.open()
    return library


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_an_add_that_fails_after_the_build_puts_files_and_index_back(library, monkeypatch, tmp_path):
    before, hashes = files(library.stories_dir), index.store.read_generation(library.index_dir).content_hashes()
    served = library.knowledge_base
    data = write_story(tmp_path, "new.txt", "Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n").read_bytes()

    def failing_load(*args, **kwargs):
        raise RuntimeError("disk went away")

    monkeypatch.setattr("index.library.load", failing_load)
    with pytest.raises(RuntimeError, match="disk went away"):
        library.add(data, "new.txt")
    assert files(library.stories_dir) == before
    assert index.store.read_generation(library.index_dir).content_hashes() == hashes
    assert library.knowledge_base is served


def test_an_invalid_file_is_refused_with_its_line_and_nothing_changes(library):
    before, served = files(library.stories_dir), library.knowledge_base
    problems = library.validate(b"Title only\n", "bad.txt").errors
    assert problems and all(str(p).startswith("bad.txt:") for p in problems)
    with pytest.raises(index.StoryFileError):
        library.add(b"Title only\n", "bad.txt")
    assert [p.message for p in library.validate(b"x", "story.md").errors] == ["not a story file: the name must end in .txt or .json"]
    assert files(library.stories_dir) == before and library.knowledge_base is served


def test_an_add_finds_the_file_it_replaces_without_parsing_the_library(library, monkeypatch):
    def must_not_parse(path, *args):
        raise AssertionError(f"parsed {path} to find the file holding the same title")

    monkeypatch.setattr("index.library.parse_file", must_not_parse, raising=False)  # the build still parses
    lowmoor = library.stories_dir / "lowmoor_library_closures.txt"
    data = lowmoor.read_bytes().replace(b"next spring", b"next summer")
    change = library.add(data, "upload.txt")
    assert change.file == lowmoor and lowmoor.read_bytes() == data  # an update keeps the file's name
    title = library.find_title("lowmoor to close four branch libraries")
    assert change.files == {title: "lowmoor_library_closures.txt"} and change.report.updated == [title]


def test_remove_drops_the_file_and_the_story_and_swaps_the_index(library):
    served = library.knowledge_base
    title = library.find_title("LOWMOOR  to close four branch libraries")
    change = library.remove(title)
    assert not (library.stories_dir / "lowmoor_library_closures.txt").exists()
    assert change.files == {title: "lowmoor_library_closures.txt"} and library.story(title) is None
    assert served.story(title) is not None and library.knowledge_base is not served  # the old index is untouched


def test_a_write_that_cannot_be_renamed_into_place_leaves_no_temporary_file(tmp_path):
    (tmp_path / "story.txt").mkdir()  # in the way, as a hand-made folder would be
    with pytest.raises(OSError):
        write_atomically(tmp_path / "story.txt", b"Title\n- a [1]\n")
    assert [p.name for p in tmp_path.iterdir()] == ["story.txt"]


def test_a_file_saved_after_the_build_counts_as_changed_on_disk(library):
    assert not library.changed_on_disk()
    write_story(library.stories_dir, "late.txt", "Saved After The Build\n- A late file.[1]\n")  # after the build, before the bot watches
    assert library.changed_on_disk()
    library.reindex()
    assert not library.changed_on_disk() and library.find_title("saved after the build") == "Saved After The Build"


def test_titles_are_found_exactly_by_id_or_by_a_clear_guess_and_autocomplete_sends_ids(library):
    newest = library.catalog()[0]
    assert library.title_choices("", 1) == [(newest.title, newest.id)]
    assert library.find_title(newest.id) == newest.title
    assert library.find_title(newest.title[:-1]) is None
    assert library.find_title(newest.title[:-1], guess=True) == newest.title
    assert library.title_choices(newest.title.lower(), 1) == [(newest.title, newest.id)]


def test_an_add_or_a_remove_reads_no_other_story_file(library, monkeypatch, tmp_path):
    """Proportional to the story, not the library: the build after a change parses only the file it wrote."""
    parsed = []
    real = index.corpus.parse_file
    monkeypatch.setattr("index.corpus.parse_file", lambda path, *args: parsed.append(Path(path).name) or real(path, *args))
    data = write_story(tmp_path, "new.txt", "Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n").read_bytes()
    change = library.add(data, "upload.txt")
    assert parsed == [change.file.name] and change.report.added == ["Gull Point Pier Reopens"]
    assert change.report.embedded == 1 and change.report.reused == library.knowledge_base.generation.dense.ntotal - 1
    parsed.clear()
    change = library.remove("Gull Point Pier Reopens")
    assert parsed == [] and change.report.removed == ["Gull Point Pier Reopens"]
    assert library.find_title("Gull Point Pier Reopens") is None and library.ask("Which Lowmoor branch libraries will close?").answered


def test_an_invalid_file_in_the_folder_is_read_again_but_no_valid_one_is(library, monkeypatch, tmp_path):
    broken = write_story(library.stories_dir, "zz_broken.txt", "- a bullet with no title [1]\n")
    assert [p.path for p in library.reindex().report.problems if p.fatal] == [broken]
    parsed = []
    real = index.corpus.parse_file
    monkeypatch.setattr("index.corpus.parse_file", lambda path, *args: parsed.append(Path(path).name) or real(path, *args))
    data = write_story(tmp_path, "new.txt", "Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n").read_bytes()
    change = library.add(data, "upload.txt")
    assert sorted(parsed) == sorted([change.file.name, broken.name])  # reported again, and nothing else read
    assert [p.path for p in change.report.problems if p.fatal] == [broken] and change.report.added == ["Gull Point Pier Reopens"]
    # The record names the files to read again; one it names that the scan did not find is never read.
    record = library.index_dir / index.store.STATS
    first, rest = record.read_text(encoding="utf-8").split("\n", 1)
    outside = write_story(tmp_path, "outside.txt", "Outside The Folder\n- Not a story of this library.[1]\n")
    record.write_text(json.dumps({**json.loads(first), "unshelved": [str(outside), str(broken)]}) + "\n" + rest, encoding="utf-8")
    parsed.clear()
    change = library.add(b"Gull Point Quay Closes\n- The quay closed on Friday.[1]\n", "quay.txt")
    assert "outside.txt" not in parsed and library.find_title("Outside The Folder") is None
    assert change.report.added == ["Gull Point Quay Closes"]


def test_a_read_only_index_folder_with_changed_story_files_still_opens_and_answers(tmp_path, embedder, caplog):
    folder = tmp_path / "stories"
    shutil.copytree(STORIES, folder)
    index.Library(folder, tmp_path / "index", embedder=embedder).open()
    write_story(folder, "pier.txt", "Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n")  # not indexed yet
    library = index.Library(folder, tmp_path / "index", embedder=embedder)
    with read_only(tmp_path / "index"), caplog.at_level("WARNING", logger="index.library"):
        report = library.open()
        assert library.ask("Which Lowmoor branch libraries will close?").answered
        assert "Gull Point Pier Reopens" not in library.titles() and report.stories == 4 and not report.changed
        assert not library.changed_on_disk()  # the watcher does not try again on every poll
    [warning] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert str(tmp_path / "index") in warning.getMessage() and "cannot be written" in warning.getMessage()
    assert library.reindex().report.added == ["Gull Point Pier Reopens"]  # writable again: the next change indexes it
