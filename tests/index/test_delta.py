"""A change writes a small delta beside the previous generation's base (hard links to its files) instead of a whole
new generation, and the index it gives answers exactly as a build from scratch of the same files."""

import json
import os
import re
import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

import index
from index.store import BASE, DELTA, current_path
from tests.index.test_build import recording_opens, same_index
from tests.support import EVAL, write_story

QUESTIONS = [
    "how much will the ferry fares rise?", "what did the council decide about rents?", "who closed the libraries?",
    "when does the bridge reopen?", "how many pupils get free lunches?", "what did the police change?",
    "what are the arguments for and against?", "Gull Point pier", "what did the ambulance service declare?",
    "who opposes the wind farm?", "how much does it cost?", "what happened in Norhaven?",
]


@pytest.fixture
def folder(tmp_path) -> Path:
    """The evaluation stories (81 of them): enough for routing among many stories to be tested."""
    folder = tmp_path / "stories"
    shutil.copytree(EVAL / "stories", folder)
    return folder


def answers(kb: index.KnowledgeBase) -> list[tuple]:
    """Every question's answer (stories, bullets and their scores) and its routing (stories and scores)."""
    found = []
    for question in QUESTIONS:
        retrieval = kb.retrieve(question)
        found.append((kb.ask(question).model_dump(), [(kb.titles()[s], round(score, 4)) for s, score in retrieval.routed[:10]]))
    return found


def assert_answers_as_a_fresh_build(library: index.Library, tmp_path: Path, embedder) -> None:
    fresh = tmp_path / f"fresh-{len(list(tmp_path.glob('fresh-*')))}"
    index.build([library.stories_dir], fresh, embedder=embedder, skip_invalid=True)
    same_index(library.index_dir, fresh, embedder)
    assert answers(library.knowledge_base) == answers(index.load(fresh, embedder=embedder))
    lexical, expected = library.knowledge_base.lexical, index.load(fresh, embedder=embedder).lexical
    for question in QUESTIONS:  # the BM25 scores a question sees, item by item
        with lexical.matching(index.lexical.tokenize_query(question)) as got, expected.matching(index.lexical.tokenize_query(question)) as want:
            assert np.allclose(got.scores, want.scores, rtol=1e-5, atol=1e-7) and got.peak == pytest.approx(want.peak, rel=1e-5)


def test_add_update_and_remove_each_write_a_delta_and_answer_as_a_build_from_scratch(folder, tmp_path, embedder):
    library = index.Library(folder, tmp_path / "index", embedder=embedder)
    library.open()
    first = current_path(library.index_dir)
    assert not (first / DELTA).exists()
    base_vectors = os.stat(first / BASE / "vectors.npy").st_ino

    library.add(b"Gull Point Pier Reopens\n- The Gull Point pier reopened on Monday after 2 years, costing 4 million crowns.[1]\n",
                "pier.txt")
    assert (current_path(library.index_dir) / DELTA).is_dir()
    assert_answers_as_a_fresh_build(library, tmp_path, embedder)

    ferry = next(folder.glob("*ferry*"))  # a base story updated: hidden in the base, its new version in the delta
    library.add(ferry.read_bytes().replace(b"crowns", b"marks"), ferry.name)

    library.add(b"Gull Point Pier Reopens\n- The Gull Point pier reopened on Tuesday.[1]\n", "pier.txt")  # a delta story updated
    assert_answers_as_a_fresh_build(library, tmp_path, embedder)

    library.remove(next(folder.glob("02_*")).read_text(encoding="utf-8").splitlines()[0])  # a base story removed
    library.remove("Gull Point Pier Reopens")  # a delta story removed
    generation = current_path(library.index_dir)
    assert (generation / DELTA).is_dir() and os.stat(generation / BASE / "vectors.npy").st_ino == base_vectors
    assert_answers_as_a_fresh_build(library, tmp_path, embedder)


def test_a_delta_never_changes_a_file_an_existing_generation_holds(stories, tmp_path, embedder):
    library = index.Library(stories, tmp_path / "index", embedder=embedder)
    library.open()
    before = current_path(library.index_dir)
    stats = {f.relative_to(before): (s.st_ino, s.st_size, s.st_mtime_ns) for f in before.rglob("*") if f.is_file() for s in [f.stat()]}
    library.add(b"Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n", "pier.txt")
    after = current_path(library.index_dir)
    assert after != before
    assert {f.relative_to(before): (s.st_ino, s.st_size, s.st_mtime_ns) for f in before.rglob("*") if f.is_file() for s in [f.stat()]} == stats
    # The new generation's base is the old one's files themselves, linked, not copied.
    assert {f.name: f.stat().st_ino for f in (after / BASE).iterdir()} == {Path(f).name: ino for f, (ino, _, _) in stats.items()
                                                                           if Path(f).parts[0] == BASE}


def test_a_change_loads_no_base_again_in_the_process_serving_it(stories, tmp_path, embedder, monkeypatch):
    """The base's FAISS index (hundreds of megabytes at a million claims) is read once: the build and the load after
    it reuse the one the library is answering from."""
    library = index.Library(stories, tmp_path / "index", embedder=embedder)
    library.open()
    reads = []
    real = faiss.read_index
    monkeypatch.setattr(faiss, "read_index", lambda *args: reads.append(args) or real(*args))
    library.add(b"Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n", "pier.txt")
    library.remove("Gull Point Pier Reopens")
    assert reads == []


def test_past_its_share_of_the_base_a_delta_is_compacted_into_a_new_base(stories, tmp_path, embedder, monkeypatch):
    library = index.Library(stories, tmp_path / "index", embedder=embedder)
    library.open()
    library.add(b"Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n", "pier.txt")
    assert (current_path(library.index_dir) / DELTA).is_dir()
    monkeypatch.setattr("index.builder.DELTA_FLOOR", 0)
    monkeypatch.setattr("index.builder.DELTA_SHARE", 0.0)  # any change is past it
    write_story(stories, "quay.txt", "Gull Point Quay Closes\n- The quay closed on Friday.[1]\n")
    change = library.reindex()
    assert change.report.added == ["Gull Point Quay Closes"]
    generation = current_path(library.index_dir)
    assert not (generation / DELTA).exists()
    assert_answers_as_a_fresh_build(library, tmp_path, embedder)


def test_a_delta_generation_survives_its_base_generation_being_pruned(stories, tmp_path, embedder):
    library = index.Library(stories, tmp_path / "index", embedder=embedder)
    library.open()
    first = current_path(library.index_dir)
    for n in range(3):
        library.add(f"Pruning Story {n}\n- Bullet {n} of the pruning test.[1]\n".encode(), f"prune{n}.txt")
    assert not first.exists()
    index.store._loaded_bases.clear()  # as in another process: the base is read from the files left
    fresh = index.Library(stories, library.index_dir, embedder=embedder)
    fresh.load()
    assert {f"Pruning Story {n}" for n in range(3)} <= set(fresh.titles())
    assert answers(fresh.knowledge_base) == answers(library.knowledge_base)


def test_a_change_walks_its_own_stories_not_every_carried_one(folder, tmp_path, embedder, monkeypatch):
    """At 100,000 stories a walk over the carried ones (an object, a file comparison or a hash each) cost most of an
    add: a change looks at the stories it parses and at the delta it carries, however many stories the base holds."""
    library = index.Library(folder, tmp_path / "index", embedder=embedder)
    library.open()
    assert len(library.titles()) == 81
    made: list[int] = []

    class CountedStory(index.shelf.ShelvedStory):
        __slots__ = ()

        def __init__(self, *args):
            made.append(args[1])
            super().__init__(*args)

    for module in ("index.shelf", "index.builder", "index.corpus"):
        monkeypatch.setattr(f"{module}.ShelvedStory", CountedStory)
    monkeypatch.setattr("index.shelf.CarriedStories.stories", lambda self: pytest.fail("a delta build listed every carried story"))
    library.add(b"Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n", "pier.txt")
    assert made == []  # the delta was empty: nothing to carry into the new one
    library.add(b"Gull Point Quay Closes\n- The quay closed on Friday.[1]\n", "quay.txt")
    assert len(made) == 1  # the pier, carried from the previous delta into this one
    made.clear()
    library.remove("Gull Point Pier Reopens")
    assert len(made) == 1  # the quay
    stats = (tmp_path / "index" / index.store.STATS).read_text(encoding="utf-8").split("\n")
    patch = {Path(name).name: entry for name, entry in json.loads(stats[1]).items()}  # the changes' files, not 81 entries
    assert patch.keys() == {"gull-point-pier-reopens-b5018724.txt", "gull-point-quay-closes-92c193bc.txt"}
    assert patch["gull-point-pier-reopens-b5018724.txt"] is None  # removed
    monkeypatch.undo()
    assert_answers_as_a_fresh_build(library, tmp_path, embedder)


@pytest.mark.parametrize("form", ["one entry per file", "one string"])
def test_a_record_of_the_files_written_before_is_still_compared(stories, tmp_path, embedder, monkeypatch, form):
    """An index built by an earlier version keeps its record of the files (the whole listing on line 2, one entry per
    file or one string): the next change parses only what changed (a whole parse of 100,000 files would take minutes)
    and records the files in the current form, a base listing and a patch."""
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    record = out / index.store.STATS
    first = json.loads(record.read_text(encoding="utf-8").split("\n")[0])
    listing = (out / first.pop("listing")).read_text(encoding="utf-8")
    entries = re.findall(r"([^\0]*)\0([^\0]*)\0([^\0]*)\0", listing)
    assert len(entries) == 4 and index.corpus.record_signature(listing) == first["signature"]
    old = {name: [int(size), int(mtime)] for name, size, mtime in entries} if form == "one entry per file" else listing
    record.write_text(json.dumps(first) + "\n" + json.dumps(old) + "\n", encoding="utf-8")
    for path in out.glob("listing-*"):
        path.unlink()
    assert index.build([stories], out, embedder=embedder).changed is False  # read as it was written
    parsed: list[str] = []
    real = index.corpus.parse_file
    monkeypatch.setattr("index.corpus.parse_file", lambda path: parsed.append(path.name) or real(path))
    write_story(stories, "pier.txt", "Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n")
    (stories / "02_orchard_school_meals.txt").unlink()
    report = index.build([stories], out, embedder=embedder)
    assert parsed == ["pier.txt"]
    assert report.added == ["Gull Point Pier Reopens"] and len(report.removed) == 1 and report.stories == 4
    first, patch = record.read_text(encoding="utf-8").split("\n")[:2]
    assert json.loads(patch) == {} and (out / json.loads(first)["listing"]).is_file()
    parsed.clear()
    (stories / "pier.txt").write_text("Gull Point Pier Reopens\n- The pier reopened on Tuesday.[1]\n", encoding="utf-8")
    report = index.build([stories], out, embedder=embedder)
    assert parsed == ["pier.txt"] and report.updated == ["Gull Point Pier Reopens"]


def test_a_change_told_its_files_after_a_record_written_before_writes_the_base_listing_once(stories, tmp_path, embedder):
    """The record written before holds no base listing file: the first change told its files writes the listing it
    read, with its own file's entry, as one (the whole library, once)."""
    out = tmp_path / "idx"
    library = index.Library(stories, out, embedder=embedder)
    library.open()
    record = out / index.store.STATS
    first = json.loads(record.read_text(encoding="utf-8").split("\n")[0])
    listing = (out / first.pop("listing")).read_text(encoding="utf-8")
    record.write_text(json.dumps(first) + "\n" + json.dumps(listing) + "\n", encoding="utf-8")
    for path in out.glob("listing-*"):
        path.unlink()
    change = library.add(b"Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n", "pier.txt")
    assert change.report.added == ["Gull Point Pier Reopens"]
    first, patch = record.read_text(encoding="utf-8").split("\n")[:2]
    assert json.loads(patch) == {}
    assert (out / json.loads(first)["listing"]).read_text(encoding="utf-8") == index.corpus.scan_story_files([stories]).record
    assert not library.changed_on_disk()
    assert index.build([stories], out, embedder=embedder).changed is False


def test_a_delta_over_an_approximate_base_answers_as_a_build_from_scratch(folder, tmp_path, embedder, monkeypatch):
    """Past EXACT_LIMIT (lowered here to fit the 81 stories) the base is IVF: a question searches it without the hidden
    ids, with the delta's exact index beside it, and re-ranks them together by the stored vectors."""
    from index import dense
    from index.store import Dense

    for function in (dense.build_dense, dense.updated_dense):
        monkeypatch.setattr(function, "__defaults__", (300,))
    library = index.Library(folder, tmp_path / "index", embedder=embedder)
    library.open()
    library.add(b"Gull Point Pier Reopens\n- The Gull Point pier reopened on Monday after 2 years, costing 4 million crowns.[1]\n",
                "pier.txt")
    ferry = next(folder.glob("*ferry*"))
    library.add(ferry.read_bytes().replace(b"crowns", b"marks"), ferry.name)
    generation = library.knowledge_base.generation
    assert isinstance(generation.dense, Dense) and dense.describe(generation.dense.base).startswith("IVF")

    fresh = tmp_path / "fresh"
    index.build([folder], fresh, embedder=embedder)
    scratch = index.load(fresh, embedder=embedder)
    assert dense.describe(scratch.generation.dense).startswith("IVF")
    assert answers(library.knowledge_base) == answers(scratch)
    for query in embedder.encode(["when did the pier reopen?", "ferry fares in marks", *QUESTIONS]):
        ids = generation.items["id"][generation.nearest_rows(query, 20)]
        assert ids.tolist() == scratch.generation.items["id"][scratch.generation.nearest_rows(query, 20)].tolist()


def test_a_change_scans_nothing_stats_only_its_files_and_makes_no_lookup_over_the_base(folder, tmp_path, embedder, monkeypatch):
    """Told the files it wrote or deleted, a change neither scans the folder (81 files) nor reads its base listing, and
    stats its own file alone, records only that file beside the listing, and makes no
    lookup by id, title or file over the base's 81 stories (made once per base); and it writes its own stories'
    content hashes, not every story's."""
    library = index.Library(folder, tmp_path / "index", embedder=embedder)
    library.open()
    base = library.knowledge_base.generation.stories
    assert base.number_of_id and base.number_of_key and base.number_of_file  # the base's lookups, made once for it
    lookups: list[int] = []
    for name in ("number_of_id", "number_of_key", "number_of_file"):
        made = index.shelf.Numbered.__dict__[name]
        monkeypatch.setattr(made, "func", lambda shelf, real=made.func: lookups.append(len(shelf.ids)) or real(shelf))
    monkeypatch.setattr("index.corpus.StoryFolder.changed_since", lambda *args: pytest.fail("the listings were compared whole"))
    monkeypatch.setattr("index.builder.scan_story_files", lambda *args: pytest.fail("the folder was scanned"))
    stated: list[str] = []  # the story files looked at, as a scan would list them
    real_entry = index.builder.scanned_entry
    monkeypatch.setattr("index.builder.scanned_entry", lambda folder, name: stated.append(Path(name).name) or real_entry(folder, name))
    record = library.index_dir / index.store.STATS
    [listing] = library.index_dir.glob("listing-*")
    listing_stat = listing.stat()
    opened: list[str] = []
    with recording_opens(opened):
        change = library.add(b"Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n", "pier.txt")
    assert stated == [change.file.name] and not [name for name in opened if "listing-" in name]  # the base listing: not read
    assert [Path(name).name for name in json.loads(record.read_text(encoding="utf-8").split("\n")[1])] == [change.file.name]
    assert change.report.added == ["Gull Point Pier Reopens"] and library.find_title("gull point pier reopens") == "Gull Point Pier Reopens"
    generation = current_path(library.index_dir)
    assert "stories" not in json.loads((generation / "manifest.json").read_text())
    assert len(json.loads((generation / DELTA / "catalog.json").read_text())["hashes"]) == 1
    updated = library.add(b"Gull Point Pier Reopens\n- The pier reopened on Tuesday.[1]\n", "pier.txt")
    assert updated.report.updated == ["Gull Point Pier Reopens"]
    assert library.remove("Gull Point Pier Reopens").report.removed == ["Gull Point Pier Reopens"]
    assert library.find_title("Gull Point Pier Reopens") is None and library.story_model(library.titles()[5]).title == library.titles()[5]
    assert lookups and max(lookups) <= 1  # only the deltas' (none or one story each)
    assert stated == [change.file.name] * 3  # added, updated, removed: no other file stat'ed
    assert listing.stat().st_mtime_ns == listing_stat.st_mtime_ns and list(library.index_dir.glob("listing-*")) == [listing]
    monkeypatch.undo()
    assert_answers_as_a_fresh_build(library, tmp_path, embedder)


def test_a_file_edited_by_hand_before_a_change_is_indexed_by_the_next_check_of_the_folder(folder, tmp_path, embedder, monkeypatch):
    """A change told its files scans nothing, so a file saved or deleted by hand before it is not in its record: the
    watcher's next check finds the folder differs from the record, and the rebuild it runs indexes the edits."""
    library = index.Library(folder, tmp_path / "index", embedder=embedder)
    library.open()
    edited = sorted(folder.glob("*.txt"))[3]
    title = library.knowledge_base.story_model(library.titles()[0]).title  # any story: remove its file by hand
    deleted = Path(library.knowledge_base.source_file(title))
    edited.write_text(edited.read_text(encoding="utf-8").replace("* ", "* Edited by hand. ", 1), encoding="utf-8")
    deleted.unlink()
    change = library.add(b"Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n", "pier.txt")
    assert change.report.added == ["Gull Point Pier Reopens"] and change.report.updated == change.report.removed == []
    assert library.changed_on_disk()
    picked_up = library.reindex()
    assert picked_up.report.removed == [title] and picked_up.report.added == []
    assert [library.knowledge_base.source_file(t).name for t in picked_up.report.updated] == [edited.name]
    assert not library.changed_on_disk()
    assert_answers_as_a_fresh_build(library, tmp_path, embedder)


def test_a_file_saved_by_hand_while_a_change_runs_is_indexed_by_the_next_check_of_the_folder(folder, tmp_path, embedder, monkeypatch):
    """Issue #12 item 8: an editor's file saved while a moderator's change is being built is not lost."""
    library = index.Library(folder, tmp_path / "index", embedder=embedder)
    library.open()
    real = index.corpus.parse_file

    def parse_while_an_editor_saves(path):
        write_story(folder, "lighthouse.txt", "Gull Point Lighthouse Relit\n- The lighthouse was relit on Friday.[1]\n")
        return real(path)

    monkeypatch.setattr("index.corpus.parse_file", parse_while_an_editor_saves)
    change = library.add(b"Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n", "pier.txt")
    monkeypatch.undo()
    assert change.report.added == ["Gull Point Pier Reopens"] and library.find_title("Gull Point Lighthouse Relit") is None
    assert library.changed_on_disk()
    assert library.reindex().report.added == ["Gull Point Lighthouse Relit"]
    assert not library.changed_on_disk()
    assert_answers_as_a_fresh_build(library, tmp_path, embedder)
