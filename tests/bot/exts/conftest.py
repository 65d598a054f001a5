"""Fixtures of the extensions' fake-Discord tests that change stories: each test gets its own copy of the test
stories and its own index of them (a few seconds), so it passes alone and in any order."""

import shutil
from pathlib import Path

import pytest

import index

STORIES = Path(__file__).parents[1] / "stories"


@pytest.fixture
def stories_dir(tmp_path) -> Path:
    folder = tmp_path / "stories"
    folder.mkdir()
    for story in STORIES.glob("*.txt"):
        shutil.copy(story, folder / story.name)
    return folder


@pytest.fixture
def index_dir(embedder, stories_dir, tmp_path) -> Path:
    out = tmp_path / "index"
    index.build([stories_dir], out, embedder=embedder)
    return out
