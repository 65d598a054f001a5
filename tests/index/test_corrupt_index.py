"""A damaged or foreign index: a clear error that names the fix, and `build` repairs it with no manual deletion.

Every file of a generation is truncated in turn (whatever files the store writes today), plus the
pointer and the manifest are damaged or replaced by foreign content, and the index is marked as built
by another model or another format version.
"""

import json
import shutil

import pytest

import index
from index.__main__ import main as cli
from index.store import CURRENT, FORMAT_VERSION, current_path
from tests.support import INDEX_FIXTURES, SEED

QUESTIONS = ["how much time did the other force save?", "what will the Saltmarsh ferry charge per crossing?"]
FIX = "rebuild it with `python -m index build --out"


@pytest.fixture(scope="module")
def good(embedder, tmp_path_factory):
    """One healthy index of the fixture stories, copied before each damage."""
    root = tmp_path_factory.mktemp("corrupt")
    stories = root / "stories"
    shutil.copytree(INDEX_FIXTURES, stories)
    shutil.copy(SEED, stories)
    out = root / "good"
    index.build([stories], out, embedder=embedder)
    kb = index.load(out, embedder=embedder)
    return stories, out, [kb.ask(q) for q in QUESTIONS]


def shape(answer):
    return [answer.answered] + [(s.id, [(f.index, f.text) for f in s.facts]) for s in answer.stories]


def assert_clear_error_and_recovery(out, stories, answers, embedder, capsys, *, match=FIX):
    with pytest.raises(index.IndexFormatError, match=match) as failure:
        index.load(out, embedder=embedder)
    assert str(out) in str(failure.value)
    # The command line says the same and exits 2, without a traceback.
    assert cli(["ask", QUESTIONS[0], "--index", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(("error: index at ", "error: no index at ")) and "Traceback" not in err

    report = index.build([stories], out, embedder=embedder)  # no manual deletion
    assert report.stories == 4 and report.changed
    kb = index.load(out, embedder=embedder)
    assert [shape(kb.ask(q)) for q in QUESTIONS] == [shape(a) for a in answers]


def damaged_copy(good, tmp_path):
    stories, out, answers = good
    copy = tmp_path / "idx"
    shutil.copytree(out, copy)
    return stories, copy, answers


def generation_files(out):
    return sorted(p.relative_to(current_path(out)) for p in current_path(out).rglob("*") if p.is_file())


def test_the_generation_has_the_files_this_test_damages(good):
    assert len(generation_files(good[1])) >= 4


@pytest.mark.parametrize("keep", [0.0, 0.5], ids=["emptied", "cut-in-half"])
def test_every_truncated_file_is_a_clear_error_and_build_repairs_it(good, tmp_path, embedder, capsys, keep):
    stories, out, answers = good
    for relative in generation_files(out):
        if relative.name == "manifest.json" and keep:  # half a manifest is covered with the other JSON damage
            continue
        copy = tmp_path / f"{relative}-{keep}".replace("/", "_")
        shutil.copytree(out, copy)
        target = current_path(copy) / relative
        data = target.read_bytes()
        target.write_bytes(data[: int(len(data) * keep)])
        try:
            assert_clear_error_and_recovery(copy, stories, answers, embedder, capsys)
        except BaseException as failure:
            raise AssertionError(f"{relative} truncated to {keep:.0%}: {failure}") from failure


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        ("manifest: half of it", FIX),
        ("manifest: a JSON list", FIX),
        ("manifest: an empty object", FIX),
        ("manifest: no counts", FIX),
        ("manifest: another format version", f"format version 99, this storybot reads {FORMAT_VERSION}: " + FIX),
        ("manifest: another model", "built with model 'some/other-model', not .*: " + FIX),
        ("pointer: empty", FIX),
        ("pointer: not UTF-8", FIX),
        ("pointer: a missing generation", "points at missing gen-gone: " + FIX),
        ("pointer: deleted", "no index at .*: build it with `python -m index build --out"),
    ],
)
def test_a_damaged_or_foreign_manifest_or_pointer_is_a_clear_error_and_build_repairs_it(
    good, tmp_path, embedder, capsys, damage, match
):
    stories, out, answers = damaged_copy(good, tmp_path)
    manifest_path = current_path(out) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    pointer = out / CURRENT
    match damage:
        case "manifest: half of it":
            manifest_path.write_text(manifest_path.read_text()[: manifest_path.stat().st_size // 2])
        case "manifest: a JSON list":
            manifest_path.write_text(json.dumps([manifest]))
        case "manifest: an empty object":
            manifest_path.write_text("{}")
        case "manifest: no counts":
            manifest_path.write_text(json.dumps({k: v for k, v in manifest.items() if k != "counts"}))
        case "manifest: another format version":
            manifest_path.write_text(json.dumps({**manifest, "format_version": 99}))
        case "manifest: another model":
            manifest_path.write_text(json.dumps({**manifest, "model": "some/other-model"}))
        case "pointer: empty":
            pointer.write_text("")
        case "pointer: not UTF-8":
            pointer.write_bytes(b"\xff\xfe\x00gen")
        case "pointer: a missing generation":
            pointer.write_text("gen-gone\n")
        case "pointer: deleted":
            pointer.unlink()
    assert_clear_error_and_recovery(out, stories, answers, embedder, capsys, match=match)


def test_the_bot_start_up_repairs_a_damaged_index_by_itself(good, tmp_path, embedder):
    """`python -m bot` builds before it loads, so a damaged index costs a rebuild, not an outage."""
    from bot.knowledge import open_library
    from bot.settings import BotSettings

    stories, out, answers = damaged_copy(good, tmp_path)
    (current_path(out) / "manifest.json").write_text("[]")
    settings = BotSettings(_env_file=None, stories_dir=str(stories), index_dir=str(out))
    library = open_library(settings)
    assert [shape(library.ask(q)) for q in QUESTIONS] == [shape(a) for a in answers]


@pytest.mark.parametrize("where", ["absolute", "relative", "the folder itself", "a hidden build"])
def test_a_pointer_outside_the_generations_is_refused_and_build_writes_only_inside(good, tmp_path, embedder, capsys, where):
    stories, out, answers = damaged_copy(good, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(out, elsewhere)  # a complete, valid index outside the folder
    outside = current_path(elsewhere)
    before = sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*"))
    pointer = {"absolute": str(outside), "relative": f"../elsewhere/{outside.name}", "the folder itself": ".",
               "a hidden build": ".building-x"}[where]
    (out / ".building-x").mkdir(exist_ok=True)
    (out / CURRENT).write_text(pointer + "\n")
    assert_clear_error_and_recovery(out, stories, answers, embedder, capsys, match="points outside its generations: " + FIX)
    assert current_path(out).parent == out
    assert sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*")) == before
