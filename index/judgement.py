"""The learned parts of answering: how bullets are ranked, whether a question is about the sides, and
whether the best answer is good enough to give.

All three are small linear models over signals that mean the same at any corpus size (see signals.py and
retrieval.py; the answer models also read the reader's score of the bullet shown, reader.py), fitted by
`python -m index train` on the project's own training stories (training/), never on the evaluation stories.
Their weights ship in judgement.json beside this file (a few kilobytes).
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEIGHTS_FILE = Path(__file__).with_name("judgement.json")

# Per bullet of a candidate story, in this order (retrieval.bullet_features).
BULLET_FEATURES = ("question_cosine", "focus_cosine", "focus_words_in_bullet", "has_asked_type", "lacks_asked_type", "is_lead")
# Per answer: the best story with its best bullet (retrieval.answer_features).
ANSWER_FEATURES = (
    "best_bullet_rank_score", "best_bullet_lead_over_second", "best_bullet_question_cosine", "best_bullet_focus_cosine",
    "question_words_in_story", "focus_words_in_best_bullet", "best_bullet_lacks_asked_type", "story_best_item_cosine",
    "routing_margin", "about_the_sides", "best_bullet_reader_score",
)


@dataclass(frozen=True)
class Linear:
    coefficients: np.ndarray
    intercept: float

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return features @ self.coefficients + self.intercept

    @classmethod
    def from_json(cls, data: dict) -> "Linear":
        return cls(np.asarray(data["coefficients"], dtype=np.float32), float(data["intercept"]))


@dataclass(frozen=True)
class Judgement:
    bullet_rank: Linear  # higher ranks a bullet first
    sides: Linear  # over the question's embedding: log-odds that it asks about the sides
    answer: Linear  # log-odds that the bullets shown would be right
    answer_sides: Linear  # log-odds that the story shown for a question about the sides would be right
    answer_threshold: float  # probability at or above which an answer is given (`answer`)
    sides_answer_threshold: float  # the same for a question about the sides (`answer_sides`)
    context_threshold: float  # the same, for a follow-up asked of its conversation's story alone
    # A reply about the sides keeps to its conversation's story when it names at most this much that the story lacks
    # (signals.rarity_missing): "and the other side?" does, "…pineapple on pizza?" does not.
    sides_reply_lacking_cut: float
    sides_threshold: float  # probability at or above which a question is taken to ask about the sides
    extra_bullet_margin: float  # bullets after the first are shown when they rank within this of it

    def rank_bullets(self, features: np.ndarray) -> np.ndarray:
        return self.bullet_rank(features)

    def about_the_sides(self, question_vector: np.ndarray) -> float:
        return _sigmoid(float(self.sides(question_vector)))

    def answer_probability(self, features: np.ndarray, about_the_sides: bool) -> float:
        return _sigmoid(float((self.answer_sides if about_the_sides else self.answer)(features)))

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> "Judgement":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(Linear.from_json(data["bullet_rank"]), Linear.from_json(data["sides"]), Linear.from_json(data["answer"]),
                       Linear.from_json(data["answer_sides"]), float(data["answer_threshold"]), float(data["sides_answer_threshold"]),
                       float(data["context_threshold"]), float(data["sides_reply_lacking_cut"]),
                       float(data["sides_threshold"]), float(data["extra_bullet_margin"]))
        except (OSError, ValueError, KeyError) as exc:
            raise RuntimeError(f"{path} is missing or damaged ({exc}): run `python -m index train`") from exc


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
