"""One stories folder and one index folder shared by several libraries, as by the processes of a sharded bot:
a change made through one is picked up by the others, reading only, and changes never interleave."""

import shutil
import threading
from pathlib import Path

import pytest

import index

STORIES = Path(__file__).parents[1] / "bot" / "stories"
PIER = b"Gull Point Pier Reopens\n\n- The Gull Point pier reopened on Monday after a two-year repair costing 4 million crowns.[1]\n"
DAM = b"Orrin Dam Gets New Sluice Gates\n\n- Engineers fitted three steel sluice gates to the Orrin dam over the winter.[1]\n"


@pytest.fixture
def folders(tmp_path, embedder) -> tuple[Path, Path]:
    stories, index_dir = tmp_path / "stories", tmp_path / "index"
    shutil.copytree(STORIES, stories)
    index.build([stories], index_dir, embedder=embedder)
    return stories, index_dir


def opened(folders, embedder) -> index.Library:
    library = index.Library(*folders, embedder=embedder)
    library.open()
    return library


def folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory in the folder with its size and modification time."""
    return {str(p.relative_to(folder)): ((info := p.stat()).st_size, info.st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_a_story_added_through_one_library_is_loaded_by_another_without_it_writing(folders, embedder):
    writer, reader = opened(folders, embedder), opened(folders, embedder)
    assert not reader.generation_moved() and not reader.refresh()
    writer.add(PIER, "pier.txt")
    assert reader.story("Gull Point Pier Reopens") is None  # still answering from the generation it loaded
    assert reader.generation_moved()
    before = folder_state(reader.index_dir)
    assert reader.refresh()
    assert folder_state(reader.index_dir) == before  # loaded, nothing built or written
    assert reader.knowledge_base.path == writer.knowledge_base.path
    assert reader.ask("When did the Gull Point pier reopen?").stories[0].title == "Gull Point Pier Reopens"
    assert not reader.changed_on_disk()  # the writer indexed the files as they are: no reindex follows
    assert not reader.generation_moved() and not reader.refresh()


def test_a_change_through_a_library_that_has_not_caught_up_starts_from_the_newest_generation(folders, embedder):
    first, second = opened(folders, embedder), opened(folders, embedder)
    saved = first.add(PIER, "pier.txt").file
    updated = PIER.replace(b"on Monday", b"on Tuesday")
    change = second.add(updated, "pier.txt")  # second never saw the pier story: it must still update, not clash
    assert change.report.updated == ["Gull Point Pier Reopens"] and change.report.added == []
    assert change.file == saved and saved.read_bytes() == updated
    first.refresh()
    assert "on Tuesday" in first.story("Gull Point Pier Reopens").facts[0].text


def test_changes_made_at_once_through_two_libraries_run_one_after_the_other(folders, embedder):
    libraries = [opened(folders, embedder), opened(folders, embedder)]
    changes, errors = {}, []

    def add(library: index.Library, data: bytes, name: str) -> None:
        try:
            changes[name] = library.add(data, name)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=add, args=(library, data, name))
               for library, data, name in zip(libraries, (PIER, DAM), ("pier.txt", "dam.txt"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    # Each change indexed its own story only: neither build took in the other's file half-way.
    assert changes["pier.txt"].report.added == ["Gull Point Pier Reopens"]
    assert changes["dam.txt"].report.added == ["Orrin Dam Gets New Sluice Gates"]
    for library in libraries:
        library.refresh()
        assert {"Gull Point Pier Reopens", "Orrin Dam Gets New Sluice Gates"} <= set(library.titles())
