"""Process-wide settings, made once by each entry point (`python -m index`, `python -m bot`, the benchmark's
worker process, the test suite) and never by importing the library or by one of its calls."""

import logging
import os


def configure_process() -> None:
    """Settings that belong to the whole process, so a library must not make them behind its caller's back."""
    # Questions are answered one per thread from a pool; FAISS's own OpenMP threads would only fight the askers.
    import faiss

    faiss.omp_set_num_threads(1)
    # Read when transformers and tokenizers are first imported, which happens only if torch is needed: no
    # weight-loading progress bar on every start, and no fork warning from the Rust tokenizer's threads.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
