"""The reader's training data (`python -m index train-reader`): every group is labelled as the
questions are, so the softmax is taught the right bullet, or "none" when no bullet answers."""

import json
import random
import re
import shutil

import numpy as np

from index.reader import candidate_text
from index.reader_training import read_stories, reader_scores, torch_reader, training_groups
from tests.support import ROOT

TRAINING = ROOT / "training"


def _small_training_set(tmp_path):
    """Two Drevland stories (101-130) and a few of their questions, copied from training/ under their file's name."""
    (tmp_path / "stories").mkdir()
    (tmp_path / "questions").mkdir()
    names = sorted(p.name for p in (TRAINING / "stories").iterdir() if re.match(r"1\d\d_", p.name))[:2]
    for name in names:
        shutil.copy(TRAINING / "stories" / name, tmp_path / "stories" / name)
    titles = {(tmp_path / "stories" / name).read_text(encoding="utf-8").splitlines()[0].strip() for name in names}
    rows = [json.loads(line) for line in (TRAINING / "questions" / "drevland.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [row for row in rows if row.get("story") in titles and row["kind"] in ("answerable", "unanswerable")][:40]
    (tmp_path / "questions" / "drevland.jsonl").write_text("".join(json.dumps(row) + "\n" for row in kept), encoding="utf-8")
    return kept


def test_groups_mark_the_labelled_bullets_or_none(tmp_path, embedder):
    rows = _small_training_set(tmp_path)
    groups = training_groups(tmp_path, embedder, random.Random(1))
    by_question = {}
    for question, bullets, right in groups:
        by_question.setdefault(question, []).append((bullets, right))
    stories = read_stories(tmp_path / "stories")  # {title: bullet texts, as the parser reads them}
    checked = 0
    for row in rows:
        for bullets, right in by_question[row["q"]]:
            if row["kind"] == "unanswerable":
                assert right == []
            elif right:  # its own story: the labelled bullet is among the candidates, marked right
                labelled = candidate_text(row["story"], stories[row["story"]][row["fact"] - 1])
                assert labelled in [bullets[i] for i in right]
                assert len(bullets) > len(right)  # and some wrong ones to beat
                checked += 1
            else:  # another story of the same country, read under its own title: nothing there answers it
                assert not any(b.startswith(row["story"] + ": ") for b in bullets)
    assert checked == sum(row["kind"] == "answerable" for row in rows) > 0


def test_the_reader_scores_each_bullet_against_the_null_candidate_the_same_each_time():
    model, tokenizer = torch_reader()
    bullets = ["Kessler Motors will close its Brindmoor plant, cutting 1,200 jobs.", "The plant opened in 1971."]
    first = reader_scores(model, tokenizer, "how many jobs will go?", "Kessler Motors to Close Brindmoor Plant", bullets)
    assert first.shape == (2,)
    assert np.array_equal(first, reader_scores(model, tokenizer, "how many jobs will go?", "Kessler Motors to Close Brindmoor Plant", bullets))
