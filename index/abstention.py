"""Whether the best story really answers the question, or the honest reply is "no story covers this".

The decision is a logistic model over two signals of the best story, fitted on the labelled dev split
of tests/eval by `python -m index calibrate`; its weights live in abstention.json beside this file.
A guessed cosine floor fails on the hard case: off-topic questions that share words with a story.
Cross-validated over the whole labelled set, six candidate signals (cosines to question and focus,
BM25, coverage of question and focus words) did no better than these two, so the model keeps two.
"""

import json
import math
from dataclasses import astuple, dataclass, fields
from pathlib import Path

WEIGHTS_FILE = Path(__file__).with_name("abstention.json")


@dataclass(frozen=True)
class Evidence:
    """What the best story offers the question; the fields are the model's inputs, in order."""

    bullet_score: float  # the best bullet's ranking score (cosines to question and focus, plus BM25)
    coverage: float  # IDF-weighted share of the question's words found anywhere in the story

    def vector(self) -> list[float]:
        return list(astuple(self))


FEATURES = [f.name for f in fields(Evidence)]


def load_weights(path: Path = WEIGHTS_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


_WEIGHTS = load_weights() if WEIGHTS_FILE.exists() else None


def probability(evidence: Evidence, weights: dict | None = None) -> float:
    weights = weights or _WEIGHTS
    if weights is None:
        raise RuntimeError(f"{WEIGHTS_FILE} is missing: run `python -m index calibrate`")
    z = weights["intercept"] + sum(weights["coefficients"][name] * value for name, value in zip(FEATURES, evidence.vector(), strict=False))
    return 1.0 / (1.0 + math.exp(-z))


def should_answer(evidence: Evidence, weights: dict | None = None) -> bool:
    weights = weights or _WEIGHTS
    return probability(evidence, weights) >= weights["threshold"]
