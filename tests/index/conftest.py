"""Fixtures for the index tests."""

import shutil
from pathlib import Path

import pytest

import index
from index.evaluation import build_corpus
from tests.support import EVAL, INDEX_FIXTURES, SEED, SEEDS


@pytest.fixture
def stories(tmp_path) -> Path:
    """A writable copy of the fixture stories plus the seed: tests edit, add and delete files in it."""
    folder = tmp_path / "stories"
    shutil.copytree(INDEX_FIXTURES, folder)
    shutil.copy(SEED, folder)
    return folder


@pytest.fixture(scope="session")
def eval_kb(embedder, tmp_path_factory) -> index.KnowledgeBase:
    """The labelled evaluation corpus (the fictional evaluation stories and the seed), built once per session."""
    return build_corpus("eval", EVAL, SEEDS, tmp_path_factory.mktemp("eval") / "index", embedder)


@pytest.fixture(scope="session")
def seed_kb(embedder, tmp_path_factory) -> index.KnowledgeBase:
    """The default set-up a newcomer meets: the shipped seed alone."""
    return build_corpus("seed", EVAL, SEEDS, tmp_path_factory.mktemp("seed") / "index", embedder)
