"""`python -m bot` as a newcomer runs it: no token, so a console chat on standard input."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console import GREETING

STORIES_DIR = Path(__file__).parent / "stories"


@pytest.mark.slow
def test_without_a_token_python_m_bot_builds_the_index_and_chats_on_the_terminal(tmp_path):
    index_dir = tmp_path / "index"
    env = {key: value for key, value in os.environ.items() if key != "DISCORD_TOKEN"}
    env |= {"STORYBOT_STORIES_DIR": str(STORIES_DIR), "STORYBOT_INDEX_DIR": str(index_dir),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="Why are the Brackwater ferry crews on strike?\n/stories\n/quit\n",
        capture_output=True, text=True, env=env, cwd=tmp_path,  # cwd: no developer .env is read
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == GREETING
    assert lines[1] == "Brackwater Ferry Crews Strike Over Night Shifts"
    assert "  Left narrative:" in result.stdout and "  Right narrative:" in result.stdout
    assert "4 stories, newest first:" in result.stdout
    assert (index_dir / "CURRENT").exists()  # built because it was missing
