"""Fixtures shared by the whole suite: the real bundled model, loaded once per test session."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index import Embedder  # noqa: E402
from index.embedder import shared_embedder  # noqa: E402


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2; the same instance `index.build`/`index.load` use by default."""
    return shared_embedder()
