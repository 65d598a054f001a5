"""`StoryLibrary` on its own: a change that fails at any step leaves the files and the index as they were."""

import shutil
from pathlib import Path

import pytest

import index
from bot.library import StoryLibrary, write_atomically
from tests.support import write_story

STORIES = Path(__file__).parent / "stories"


@pytest.fixture
def library(tmp_path, embedder) -> StoryLibrary:
    folder = tmp_path / "stories"
    shutil.copytree(STORIES, folder)
    out = tmp_path / "index"
    index.build([folder], out, embedder=embedder)
    return StoryLibrary(folder, out, embedder)


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_an_add_that_fails_after_the_build_puts_files_and_index_back(library, monkeypatch, tmp_path):
    before, manifest = files(library.stories_dir), index.store.read_manifest(library.index_dir)
    data = write_story(tmp_path, "new.txt", "Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n").read_bytes()
    story = index.parser.parse_bytes(data, Path("new.txt")).story

    def failing_load(*args, **kwargs):
        raise RuntimeError("disk went away")

    indexed = index.load(library.index_dir, embedder=library.embedder)
    monkeypatch.setattr(index, "load", failing_load)
    with pytest.raises(RuntimeError, match="disk went away"):
        library.add(story, data, ".txt", indexed)
    assert files(library.stories_dir) == before
    assert index.store.read_manifest(library.index_dir)["stories"] == manifest["stories"]


def test_an_add_finds_the_file_it_replaces_without_parsing_the_library(library, monkeypatch):
    indexed = index.load(library.index_dir, embedder=library.embedder)

    def must_not_parse(path, *args):
        raise AssertionError(f"parsed {path} to find the file holding the same title")

    monkeypatch.setattr("bot.library.parse_file", must_not_parse, raising=False)  # the build still parses
    lowmoor = library.stories_dir / "lowmoor_library_closures.txt"
    data = lowmoor.read_bytes().replace(b"Lowmoor", b"Lowmoor", 1) + b"\n"
    story = index.parser.parse_bytes(data, Path("upload.txt")).story
    change = library.add(story, data, ".txt", indexed)
    assert change.file == lowmoor and lowmoor.read_bytes() == data  # an update keeps the file's name


def test_a_write_that_cannot_be_renamed_into_place_leaves_no_temporary_file(tmp_path):
    (tmp_path / "story.txt").mkdir()  # in the way, as a hand-made folder would be
    with pytest.raises(OSError):
        write_atomically(tmp_path / "story.txt", b"Title\n- a [1]\n")
    assert [p.name for p in tmp_path.iterdir()] == ["story.txt"]


def test_the_signature_the_index_was_built_from_is_the_recorded_one(library, tmp_path):
    assert library.built_signature() == library.signature()
    write_story(library.stories_dir, "late.txt", "Saved After The Build\n- A late file.[1]\n")  # after the build, before the bot watches
    assert library.built_signature() != library.signature()
