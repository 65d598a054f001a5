"""Process-wide settings are the entry points' to make: importing the library or calling it changes none."""

import json
import logging
import subprocess
import sys

import faiss

import index
from index.process import configure_process
from tests.support import ROOT


def test_loading_and_asking_leave_faiss_threads_as_the_caller_set_them(stories, tmp_path, embedder):
    out = tmp_path / "idx"
    index.build([stories], out, embedder=embedder)
    configured = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        index.load(out, embedder=embedder).ask("how much will a ferry crossing cost from April?")
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(configured)


def test_configure_process_sets_faiss_threads_and_the_quiet_log_levels():
    configured = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        logging.getLogger("bm25s").setLevel(logging.NOTSET)
        configure_process()
        assert faiss.omp_get_max_threads() == 1
        assert logging.getLogger("bm25s").level == logging.WARNING
    finally:
        faiss.omp_set_num_threads(configured)


def test_importing_the_library_and_the_bot_changes_nothing_in_the_process():
    """A fresh interpreter: environment, FAISS threads and log levels are the same before and after the imports.
    The third-party libraries are imported first: bm25s, for one, sets its own logger's level when imported."""
    script = """
import json, logging, os
import bm25s, discord, faiss, numpy, pydantic_settings  # noqa: E401, F401
def state():
    return {"env": dict(os.environ), "threads": faiss.omp_get_max_threads(),
            "levels": {name: logging.getLogger(name).level for name in ("bm25s", "discord", "transformers", "")}}
before = state()
import index, index.__main__, bot.__main__, bot.bot, bot.console  # noqa: E401
print(json.dumps(before == state()))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) is True
