"""Fixtures for the index tests."""

import shutil
from pathlib import Path

import pytest

from tests.support import INDEX_FIXTURES, SEED


@pytest.fixture
def stories(tmp_path) -> Path:
    """A writable copy of the fixture stories plus the seed: tests edit, add and delete files in it."""
    folder = tmp_path / "stories"
    shutil.copytree(INDEX_FIXTURES, folder)
    shutil.copy(SEED, folder)
    return folder
