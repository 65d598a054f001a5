"""Building the store: incremental, atomic, and never losing the index that was there."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import index
from index.store import CURRENT, FORMAT_VERSION, current_path
from tests.support import ROOT, SEED, write_story


def test_build_embeds_every_fact_and_narrative_and_loads(stories, tmp_path, embedder):
    report = index.build([stories], tmp_path / "idx", embedder=embedder)
    assert (report.stories, report.facts, report.narratives) == (4, 6 + 3 + 3 + 2, 2 + 2 + 2 + 2)
    assert (report.embedded, report.reused) == (22, 0)
    kb = index.load(tmp_path / "idx", embedder=embedder)
    generation = kb.generation
    assert generation.dense.ntotal == 22
    assert np.allclose(np.linalg.norm(np.asarray(generation.vectors), axis=1), 1.0, atol=1e-4)
    manifest = json.loads((current_path(tmp_path / "idx") / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == embedder.identity and manifest["dimension"] == 384
    assert manifest["counts"] == {"stories": 4, "facts": 14, "narratives": 8}
    assert "stories" not in manifest  # format 6: the content hashes are in the catalog, beside their stories
    assert generation.content_hashes() == {s.id: s.content_hash() for s in generation.stories}


def test_unchanged_rebuild_embeds_nothing_and_writes_nothing(stories, tmp_path, embedder):
    index.build([stories], tmp_path / "idx", embedder=embedder)
    before = (tmp_path / "idx" / CURRENT).read_text()
    report = index.build([stories], tmp_path / "idx", embedder=embedder)
    assert report.changed is False and report.embedded == 0
    assert (tmp_path / "idx" / CURRENT).read_text() == before


def test_an_untouched_story_tree_is_not_even_parsed_again(stories, tmp_path, embedder, monkeypatch):
    index.build([stories], tmp_path / "idx", embedder=embedder)
    index.build([stories], tmp_path / "idx", embedder=embedder)  # records the files' sizes and times

    def must_not_parse(files):
        raise AssertionError("an untouched tree was parsed")

    monkeypatch.setattr("index.builder.read_corpus", must_not_parse)
    report = index.build([stories], tmp_path / "idx", embedder=embedder)
    assert report.changed is False and report.stories == 4
    monkeypatch.undo()
    (stories / "02_orchard_school_meals.txt").touch()  # touched, not changed: parsed, nothing embedded
    report = index.build([stories], tmp_path / "idx", embedder=embedder)
    assert report.changed is False and report.embedded == 0


def test_an_unchanged_rebuild_does_not_load_the_index(stories, tmp_path, embedder, monkeypatch):
    """At a million claims loading the generation took 3.5 s; the no-op check reads a few small files instead."""
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)

    def must_not_load(*args, **kwargs):
        raise AssertionError("an unchanged rebuild loaded the generation")

    monkeypatch.setattr("index.builder.read_generation", must_not_load)
    report = index.build([stories], out, embedder=embedder)
    assert (report.changed, report.stories, report.facts, report.narratives) == (False, 4, 14, 8)
    monkeypatch.undo()
    with open(current_path(out) / "base" / "dense.faiss", "r+b") as dense:  # damaged after the build, size and all
        dense.truncate(100)
    report = index.build([stories], out, embedder=embedder)
    assert report.changed and index.load(out, embedder=embedder).ask("how much time did the other force save?").answered


def test_an_edited_story_re_embeds_only_its_own_items(stories, tmp_path, embedder):
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    old = index.load(out, embedder=embedder).generation
    ferry = stories / "01_harbour_ferry_fares.txt"
    ferry.write_text(ferry.read_text().replace("9 crowns per crossing", "11 crowns per crossing"))

    report = index.build([stories], out, embedder=embedder)

    assert report.updated == ["Saltmarsh Ferry Fares to Double From Spring"]
    assert (report.embedded, report.reused) == (3 + 2, 22 - 5)
    new = index.load(out, embedder=embedder).generation
    assert len(new.stories) == 4, "an updated story replaces the old one, it is not added twice"
    old_rows = {int(i): r for r, i in enumerate(old.items["id"])}
    for row, item in enumerate(new.items):
        if new.stories[item["story"]].title != report.updated[0]:
            assert np.array_equal(new.vectors[row], old.vectors[old_rows[int(item["id"])]])
    ferry_story = next(s for s in new.stories if s.title == report.updated[0])
    assert ferry_story.facts[0].text.startswith("The Saltmarsh Island ferry will charge 11 crowns")


def test_a_removed_file_drops_its_story(stories, tmp_path, embedder):
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    (stories / "03_bridge_closure.json").unlink()
    report = index.build([stories], out, embedder=embedder)
    assert report.removed == ["Fennwater Bridge Closes for Two Years of Repairs"]
    assert report.embedded == 0
    kb = index.load(out, embedder=embedder)
    assert "Fennwater Bridge Closes for Two Years of Repairs" not in kb.titles()
    assert kb.generation.dense.ntotal == 22 - 4


def test_an_invalid_file_fails_the_build_and_the_previous_index_still_loads(stories, tmp_path, embedder):
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    pointer = (out / CURRENT).read_text()
    bad = write_story(stories, "zz_bad.txt", "Broken Story\n- a fact [one]\n")
    empty = write_story(stories, "zz_empty.txt", "\n")

    with pytest.raises(index.StoryFileError) as failure:
        index.build([stories], out, embedder=embedder)

    assert {p.path for p in failure.value.problems} == {bad, empty}
    assert f"{bad}:2: citation [one] is not a number" in str(failure.value)
    assert (out / CURRENT).read_text() == pointer
    assert len(index.load(out, embedder=embedder).titles()) == 4


def test_skip_invalid_builds_the_valid_ones_and_still_lists_the_rest(stories, tmp_path, embedder):
    bad = write_story(stories, "zz_bad.txt", "- no title [1]\n")
    report = index.build([stories], tmp_path / "idx", embedder=embedder, skip_invalid=True)
    assert report.stories == 4
    assert [str(p) for p in report.problems if p.fatal] == [f"{bad}:1: no title: the file has no line before its first bullet"]


def test_an_index_from_another_model_or_format_says_to_rebuild(stories, tmp_path, embedder):
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    with pytest.raises(index.IndexFormatError, match="built with model .* rebuild it with `python -m index build"):
        index.load(out, model="some/other-model")
    manifest_path = current_path(out) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(index.IndexFormatError, match="format version .* rebuild it"):
        index.load(out, embedder=embedder)
    report = index.build([stories], out, embedder=embedder)  # recovers by itself, no manual deletion
    assert report.embedded == 22
    assert len(index.load(out, embedder=embedder).titles()) == 4


def test_an_index_an_older_storybot_wrote_is_rebuilt_by_the_next_start_though_no_story_changed(stories, tmp_path, embedder,
                                                                                                 monkeypatch):
    """A new format version: the next start finds the story files as recorded, and must still not call it up to date
    (the index would then fail to load at every start)."""
    out = tmp_path / "idx"
    monkeypatch.setattr("index.store.FORMAT_VERSION", FORMAT_VERSION - 1)
    index.build([stories], out, embedder=embedder)
    monkeypatch.undo()
    with pytest.raises(index.IndexFormatError, match=f"format version {FORMAT_VERSION - 1}"):
        index.load(out, embedder=embedder)
    report = index.build([stories], out, embedder=embedder)
    assert report.changed and report.embedded == 22
    assert len(index.load(out, embedder=embedder).titles()) == 4
    assert index.build([stories], out, embedder=embedder).changed is False


def test_a_missing_index_says_how_to_build_it(tmp_path, embedder):
    with pytest.raises(index.IndexFormatError, match="no index at .*python -m index build"):
        index.load(tmp_path / "nothing-here", embedder=embedder)


@pytest.mark.slow
def test_a_build_killed_mid_way_leaves_the_previous_index_answering_as_before(tmp_path, embedder):
    """A real `python -m index build` process, killed with SIGKILL while it writes its new generation."""
    stories, out = tmp_path / "stories", tmp_path / "idx"
    shutil.copy(SEED, stories.mkdir() or stories)
    for n in range(120):
        write_story(stories, f"gen_{n:03}.txt", f"""
            Fictional Town {n} Opens Harbour Number {n}
            - Town {n} opened harbour {n} with {n * 7} berths. [1]
            - The mayor of town {n} said {n + 3} ferries will call each week. [2]

            Narrative A
            Harbour {n} is good for trade.

            Narrative B
            Harbour {n} costs too much.
        """)
    index.build([stories], out, embedder=embedder)
    question = "how much time did the other force save?"
    before = index.load(out, embedder=embedder).ask(question)
    pointer = (out / CURRENT).read_text()
    for path in stories.glob("gen_*.txt"):  # every story changes, so the killed build has much to write
        path.write_text(path.read_text().replace("berths", "moorings"))

    process = subprocess.Popen(
        [sys.executable, "-m", "index", "build", str(stories), "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not any(out.glob(".building-*")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the build finished before it could be killed mid-way"

    assert (out / CURRENT).read_text() == pointer
    after = index.load(out, embedder=embedder)
    assert after.ask(question) == before
    assert any("berths" in f.text for s in after.generation.stories for f in s.facts)

    report = index.build([stories], out, embedder=embedder)  # the next build completes and tidies up
    assert report.updated and not list(out.glob(".building-*"))
    assert "moorings" in index.load(out, embedder=embedder).story("Fictional Town 5 Opens Harbour Number 5").facts[0].text
    assert os.listdir(out).count(CURRENT) == 1


def test_an_index_loaded_before_two_rebuilds_still_reads_every_story_after_its_generation_is_pruned(stories, tmp_path, embedder):
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    kb = index.load(out, embedder=embedder)
    loaded_from = kb.path
    for n in range(2):
        write_story(stories, f"new{n}.txt", f"Pruning Story {n}\n- Bullet {n}.[1]\n")
        index.build([stories], out, embedder=embedder)
    assert not loaded_from.exists()  # pruned from under the loaded index
    titles = kb.titles()
    assert len(kb.catalog()) == len(titles) == 4
    assert all(kb.story(title).title == title for title in titles)
    assert kb.ask("how much time did the other force save?").answered


@pytest.fixture
def parsed_files(monkeypatch) -> list[str]:
    """The story files parsed from now on (every file a build reads goes through `parse_file`)."""
    parsed = []
    real = index.corpus.parse_file

    def counting(path, *args):
        parsed.append(Path(path).name)
        return real(path, *args)

    monkeypatch.setattr("index.corpus.parse_file", counting)
    return parsed


def same_index(built: Path, fresh: Path, embedder) -> None:
    """Two indexes hold the same stories, rows, vectors, BM25 scores and dense search results."""
    from tests.index.test_lexical import score_matrix

    a, b = index.load(built, embedder=embedder).generation, index.load(fresh, embedder=embedder).generation
    assert a.stories.ids == b.stories.ids and a.stories.titles == b.stories.titles and a.stories.source_files == b.stories.source_files
    assert [s.model_dump() for s in a.stories] == [s.model_dump() for s in b.stories]
    assert a.content_hashes() == b.content_hashes() and a.manifest["counts"] == b.manifest["counts"]
    assert np.array_equal(a.items, b.items)
    assert np.allclose(np.asarray(a.vectors), np.asarray(b.vectors), atol=1e-5)
    expected, got = score_matrix(b.lexical), score_matrix(a.lexical)
    assert got.keys() == expected.keys() and np.allclose([got[k] for k in expected], list(expected.values()), rtol=1e-5)
    queries = np.asarray(b.vectors)[:5]
    assert np.array_equal(a.dense.search(queries, 5)[1], b.dense.search(queries, 5)[1])


def test_a_build_parses_only_the_changed_files_and_makes_the_index_a_fresh_build_makes(stories, tmp_path, embedder, parsed_files):
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    ferry = stories / "01_harbour_ferry_fares.txt"
    ferry.write_text(ferry.read_text().replace("9 crowns per crossing", "11 crowns per crossing"))
    (stories / "03_bridge_closure.json").unlink()
    write_story(stories, "04_pier.txt", "Gull Point Pier Reopens\n- The pier reopened on Monday.[1]\n")
    parsed_files.clear()

    report = index.build([stories], out, embedder=embedder)

    assert sorted(parsed_files) == ["01_harbour_ferry_fares.txt", "04_pier.txt"]
    assert (report.added, report.updated, report.removed) == (
        ["Gull Point Pier Reopens"], ["Saltmarsh Ferry Fares to Double From Spring"], ["Fennwater Bridge Closes for Two Years of Repairs"])
    assert (report.embedded, report.reused) == (5 + 1, 22 - 4 - 5)
    index.build([stories], tmp_path / "fresh", embedder=embedder)
    same_index(out, tmp_path / "fresh", embedder)


def test_a_changed_file_that_takes_an_unchanged_storys_title_is_still_caught(stories, tmp_path, embedder, parsed_files):
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    copy = write_story(stories, "zz_copy.txt", "Saltmarsh  Ferry Fares to Double From Spring\n- Another file, the same title.[1]\n")
    parsed_files.clear()
    report = index.build([stories], out, embedder=embedder, skip_invalid=True)
    assert parsed_files == ["zz_copy.txt"]
    assert {(p.path.name, p.message.split(" as ")[0]) for p in report.problems if p.fatal} == {
        ("zz_copy.txt", "same story title 'Saltmarsh Ferry Fares to Double From Spring'"),
        ("01_harbour_ferry_fares.txt", "same story title 'Saltmarsh Ferry Fares to Double From Spring'")}
    assert "Saltmarsh Ferry Fares to Double From Spring" not in index.load(out, embedder=embedder).titles()  # neither, as before
    copy.unlink()
    parsed_files.clear()
    report = index.build([stories], out, embedder=embedder, skip_invalid=True)  # the file whose story was left out
    assert parsed_files == ["01_harbour_ferry_fares.txt"]
    assert report.added == ["Saltmarsh Ferry Fares to Double From Spring"] and not [p for p in report.problems if p.fatal]


def test_an_unchanged_rebuild_opens_no_file_of_the_generation_and_not_the_recorded_file_stats(stories, tmp_path, embedder):
    """The no-op check reads one line of one small file and stats the generation's files: at 100,000 story files the
    recorded per-file stats alone are a 7 MB JSON document (0.15–0.24 s to parse)."""
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    record = out / index.store.STATS
    first_line, rest = record.read_text().split("\n", 1)
    record.write_text(first_line + "\n" + "this line is never read by the no-op check\n")
    opened: list[str] = []
    with recording_opens(opened):
        report = index.build([stories], out, embedder=embedder)
    assert report.changed is False and report.stories == 4
    generation = current_path(out)
    assert [name for name in opened if Path(name).is_relative_to(generation)] == []
    # CURRENT is read before the scan too, so that a build under the lock knows whether another one finished meanwhile.
    assert [name for name in opened if Path(name).is_relative_to(out)] == [str(out / CURRENT), str(record), str(out / CURRENT)]


_recorder: list | None = None


def _record_open(event: str, args: tuple) -> None:
    if event == "open" and _recorder is not None and isinstance(args[0], str | Path):
        _recorder.append(str(args[0]))


@contextlib.contextmanager
def recording_opens(into: list[str]):
    """Every file opened meanwhile (Python's audit events; a hook cannot be removed, so it is added once, idle after)."""
    global _recorder
    if not getattr(sys, "_storybot_open_hook", False):
        sys.addaudithook(_record_open)
        sys._storybot_open_hook = True
    _recorder = into
    try:
        yield
    finally:
        _recorder = None


def test_an_unchanged_folder_with_an_invalid_file_is_not_read_again_and_the_file_is_still_reported(stories, tmp_path, embedder, parsed_files):
    """So an up-to-date index holding all but a broken file also starts from a read-only disk (no lock, no write)."""
    out = tmp_path / "idx"
    bad = write_story(stories, "zz_bad.txt", "- no title [1]\n")
    first = index.build([stories], out, embedder=embedder, skip_invalid=True)
    parsed_files.clear()
    report = index.build([stories], out, embedder=embedder, skip_invalid=True)
    assert parsed_files == [] and report.changed is False and report.stories == first.stories == 4
    assert [str(p) for p in report.problems] == [f"{bad}:1: no title: the file has no line before its first bullet"]
    with pytest.raises(index.StoryFileError, match="zz_bad.txt:1: no title"):
        index.build([stories], out, embedder=embedder)
    assert parsed_files == []
