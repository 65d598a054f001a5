"""`python -m index`: what a person at a terminal sees, what scripts read, and the exit codes they rely on."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from index.__main__ import EXIT_INVALID_INPUT, EXIT_UNUSABLE_INDEX, main
from index.embedder import encoder_identity
from index.settings import DEFAULT_MODEL
from tests.support import ROOT, write_story


@pytest.fixture
def built(stories, tmp_path, embedder) -> Path:
    out = tmp_path / "idx"
    assert main(["build", str(stories), "--out", str(out)]) == 0
    return out


def test_build_prints_what_it_did(stories, tmp_path, capsys, embedder):
    out = tmp_path / "idx"
    assert main(["build", str(stories), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "indexed 4 stories (4 added, 0 updated, 0 removed): 14 facts, 8 narratives; 22 embedded, 0 reused" in printed
    assert main(["build", str(stories), "--out", str(out)]) == 0
    assert "is up to date: 4 stories, nothing re-embedded" in capsys.readouterr().out


def test_build_with_invalid_files_lists_each_and_exits_non_zero(built, stories, capsys):
    bad = write_story(stories, "bad.txt", "Bad\n- fact [x]\n")
    other = write_story(stories, "other.txt", "")
    assert main(["build", str(stories), "--out", str(built)]) == EXIT_INVALID_INPUT
    err = capsys.readouterr().err
    assert f"{bad}:2: citation [x] is not a number" in err
    assert f"{other}:1: file is empty" in err
    assert "2 invalid file(s); nothing was changed" in err

    assert main(["build", str(stories), "--out", str(built), "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert f"{bad}:2: skipped: citation [x] is not a number" in captured.err
    assert "is up to date: 4 stories" in captured.out


def test_stats(built, capsys):
    assert main(["stats", "--index", str(built)]) == 0
    out = capsys.readouterr().out
    assert "stories:     4" in out and "facts:       14" in out and "narratives:  8" in out
    assert f"{encoder_identity(DEFAULT_MODEL)} (384 dimensions)" in out  # the model and its encoder variant


def test_stats_on_a_missing_index_says_how_to_build(tmp_path, capsys):
    assert main(["stats", "--index", str(tmp_path / "none")]) == EXIT_UNUSABLE_INDEX
    assert "python -m index build" in capsys.readouterr().err


def test_ask_prints_the_answer_as_json_with_or_without_the_old_json_flag(built, capsys):
    """Text for people is the console chat's (`python -m bot`, tests/bot/test_console.py); the library's command prints data."""
    question = "how much will a ferry crossing cost from April?"
    assert main(["ask", question, "--index", str(built)]) == 0
    plain = capsys.readouterr().out
    assert main(["ask", question, "--index", str(built), "--json"]) == 0
    assert capsys.readouterr().out == plain
    answer = json.loads(plain)
    assert answer["stories"][0]["title"] == "Saltmarsh Ferry Fares to Double From Spring"
    fact = answer["stories"][0]["facts"][0]
    assert fact["text"] == "The Saltmarsh Island ferry will charge 9 crowns per crossing from April 1, up from 4.50 crowns."


def test_ask_json_follows_the_contract(built, capsys):
    assert main(["ask", "how much will a ferry crossing cost from April?", "--index", str(built)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) >= {"question", "answered", "stories", "suggestions"}
    story = answer["stories"][0]
    assert set(story) >= {"id", "title", "updated", "facts", "narratives"}
    assert set(story["facts"][0]) >= {"index", "text", "citations", "sources", "score"}
    assert story["facts"][0]["index"] == 1 and story["facts"][0]["citations"] == [1]
    assert [n["label"] for n in story["narratives"]] == ["Pro-operator narrative", "Anti-operator narrative"]


def test_ask_dash_reads_one_question_per_line(built, capsys, monkeypatch):
    # "who pays for free school lunches in Pellwick?" was asked here, and only its story checked: it was answered with
    # the story's first bullet, not the one that says who pays, and the reader's third epoch refuses it instead.
    monkeypatch.setattr(sys, "stdin", io.StringIO("who is the head teacher in Pellwick?\n\n" + "x" * 600 + "\n"))
    assert main(["ask", "-", "--index", str(built)]) == EXIT_INVALID_INPUT
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    story = json.loads(lines[0])["stories"][0]
    assert story["title"] == "Pellwick Schools Switch to Free Lunches" and "Odile Marsh" in story["facts"][0]["text"]
    assert "I can take up to 500" in json.loads(lines[1])["error"]


def test_ask_rejects_an_empty_question(built, capsys):
    assert main(["ask", "   ", "--index", str(built)]) == EXIT_INVALID_INPUT
    captured = capsys.readouterr()
    assert "Please include a question" in captured.err
    assert "Please include a question" in json.loads(captured.out)["error"]


@pytest.mark.slow
def test_the_real_command_line_in_a_subprocess(built):
    """The module runs as `python -m index` from a fresh process: the way users and scripts call it."""
    result = subprocess.run(
        [sys.executable, "-m", "index", "ask", "who is the head teacher in Pellwick?", "--index", str(built)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["answered"] is True
    assert answer["stories"][0]["facts"][0]["text"] == "Head teacher Odile Marsh said attendance rose in the pilot schools."


def test_answer_models_for_another_encoder_never_overwrite_or_pose_as_the_shipped_ones(tmp_path, capsys):
    from index.judgement import WEIGHTS_FILE

    shipped = WEIGHTS_FILE.read_bytes()
    assert main(["train", "--encoder", "int8"]) == EXIT_INVALID_INPUT
    assert "give --out for --encoder int8" in capsys.readouterr().err
    assert main(["evaluate", "--judgement", str(WEIGHTS_FILE), "--write-figures"]) == EXIT_INVALID_INPUT
    assert "--judgement figures are not the product's" in capsys.readouterr().err
    assert WEIGHTS_FILE.read_bytes() == shipped
