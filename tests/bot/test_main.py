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
        input="How long will the Brackwater ferry strike last?\n/stories\n/quit\n",
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


def test_shard_settings_that_cannot_work_stop_python_m_bot_before_anything_is_built(tmp_path):
    env = {**os.environ, "STORYBOT_STORIES_DIR": str(STORIES_DIR), "STORYBOT_INDEX_DIR": str(tmp_path / "index"),
           "DISCORD_TOKEN": "fake-token", "STORYBOT_SHARD_COUNT": "2", "STORYBOT_SHARD_IDS": "1-2"}
    result = subprocess.run([sys.executable, "-m", "bot"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert "STORYBOT_SHARD_IDS [2] outside 0..1 (STORYBOT_SHARD_COUNT=2)" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "index").exists()


def test_a_setting_of_the_wrong_kind_is_named_by_its_variable(tmp_path):
    env = {**os.environ, "STORYBOT_INDEX_DIR": str(tmp_path / "index"), "STORYBOT_POLL_SECONDS": "often"}
    result = subprocess.run([sys.executable, "-m", "bot"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert "  STORYBOT_POLL_SECONDS: Input should be a valid number" in result.stderr
