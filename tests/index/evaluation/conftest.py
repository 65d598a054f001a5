"""The three evaluation corpora, each built once per session and asked every labelled question once."""

import pytest

from index.evaluation import ask_all, build_corpus, questions_for, read_labelled_set
from tests.support import EVAL, SEEDS


@pytest.fixture(scope="session")
def labelled():
    return read_labelled_set(EVAL, SEEDS)


@pytest.fixture(scope="session")
def corpus_outcomes(embedder, tmp_path_factory, labelled, eval_kb):
    """{corpus: outcomes}, built lazily: a test that needs one corpus builds only that one."""
    built = {}

    def outcomes(corpus: str):
        if corpus not in built:
            kb = eval_kb if corpus == "eval" else build_corpus(corpus, EVAL, SEEDS, tmp_path_factory.mktemp(corpus) / "index", embedder)
            built[corpus] = ask_all(kb, questions_for(corpus, labelled, set(kb.titles())), labelled)
        return built[corpus]

    return outcomes
