"""Helpers for tests: where things are, and writing story files."""

import contextlib
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from index.reader import Reader

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
EVAL = ROOT / "tests" / "eval"
SEED = SEEDS / "000_1a11bebcc384275a.txt"
INDEX_FIXTURES = ROOT / "tests" / "index" / "stories"


def write_story(folder: Path, name: str, text: str) -> Path:
    """Write a story file from an indented literal, as scraped files are indented."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@contextlib.contextmanager
def read_only(folder: Path):
    """`folder` and everything in it really read-only: without write permission, or for root (whom permission bits do
    not stop) immutable with `chattr +i`; skips the test where neither is possible."""
    paths = [*sorted(folder.rglob("*"), reverse=True), folder]
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in paths}
        try:
            for path in paths:
                path.chmod(modes[path] & ~0o222)
            yield
        finally:
            for path in reversed(paths):
                path.chmod(modes[path])
        return
    done = []
    try:
        for path in paths:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
                pytest.skip("chattr +i is not available here, so nothing can be made read-only for root")
            done.append(path)
        yield
    finally:
        for path in reversed(done):
            subprocess.run(["chattr", "-i", str(path)], check=True)


class CountingReader(Reader):
    """A reader that reads through another, listing every (question, candidate text) it reads (reader.NULL is the
    question alone); its scores are `Reader.scores` over those reads."""

    def __init__(self, reader):  # not super().__init__, which loads an export: this one reads through `reader`
        self.reader, self.read_pairs = reader, []

    def read(self, question, texts):
        self.read_pairs += [(question, text) for text in texts]
        return self.reader.read(question, texts)
