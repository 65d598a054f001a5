"""Fixtures shared by the whole suite: the real bundled model, exported and loaded once per session."""

import os

import pytest

from index.embedder import ENCODER_DIR, Embedder, embedder_for
from index.process import configure_process
from index.reader import shared_reader
from index.settings import DEFAULT_MODEL


def pytest_configure(config):
    """What `python -m index` and `python -m bot` set for their process, set once for the test session's."""
    configure_process()


@pytest.fixture(scope="session", autouse=True)
def encoder_dir(tmp_path_factory):
    """One ONNX export for the session, found by every build, load, CLI call and subprocess through the setting."""
    folder = tmp_path_factory.mktemp("cache") / ENCODER_DIR
    os.environ["STORYBOT_ENCODER_DIR"] = str(folder)
    yield folder
    os.environ.pop("STORYBOT_ENCODER_DIR", None)


@pytest.fixture(scope="session")
def embedder(encoder_dir) -> Embedder:
    """The bundled all-MiniLM-L6-v2 on ONNX Runtime, the instance `index.build`/`index.load` use by default; the
    reader is exported beside it here too, as the first load would, so no subprocess pays for that export."""
    embedder = embedder_for(DEFAULT_MODEL, encoder_dir.parent, encoder_dir)
    shared_reader(encoder_dir.resolve())
    return embedder
