"""Helpers for tests: where things are, and writing story files."""

import textwrap
from pathlib import Path

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
