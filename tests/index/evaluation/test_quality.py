"""Quality holds the figures the README reports, per corpus and split, within a few questions.

The figures are counts written by `python -m index evaluate --write-figures` into tests/eval/figures.json
from a run of this code. A change that loses a question or two is allowed; a real regression is not.
When the labelled set changes, the totals no longer match and the figures must be measured again.
"""

import json

import pytest

from index.evaluation import ANOTHER_CONVERSATION, CORPORA, FIGURES_FILE, FOLLOWUPS_WITH, FOLLOWUPS_WITHOUT, METRICS, counts
from tests.support import EVAL

SLACK = 3  # questions a figure may lose before the test fails


@pytest.mark.slow
@pytest.mark.parametrize("corpus", [*CORPORA, FOLLOWUPS_WITH, FOLLOWUPS_WITHOUT, ANOTHER_CONVERSATION])
def test_quality_holds_the_measured_figures(corpus, corpus_outcomes):
    expected = json.loads((EVAL / FIGURES_FILE).read_text(encoding="utf-8"))[corpus]
    outcomes = corpus_outcomes(corpus)
    failures = []
    for split, figures in expected.items():
        measured = counts([o for o in outcomes if o.split == split])
        for name, (count, total) in figures.items():
            got, got_total = measured[name]
            higher_is_better = METRICS[name][0]
            if name != "wrong_when_answered" and got_total != total:
                failures.append(f"{split} {name}: {got_total} questions, figures say {total}: re-measure with --write-figures")
            elif higher_is_better and got < count - SLACK:
                failures.append(f"{split} {name}: {got}/{got_total}, measured {count}/{total}")
            elif not higher_is_better and got > count + SLACK:
                failures.append(f"{split} {name}: {got}/{got_total}, measured at most {count}/{total}")
    assert not failures, f"{corpus}: " + "; ".join(failures)
