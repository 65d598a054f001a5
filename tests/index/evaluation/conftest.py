"""The three evaluation corpora, each built once per session and asked every labelled question once."""

import pytest

from index.evaluation import (
    ANOTHER_CONVERSATION,
    FOLLOWUPS_WITH,
    ask_all,
    ask_followups,
    ask_in_another_conversation,
    build_corpus,
    questions_for,
    read_labelled_set,
)
from tests.support import EVAL, SEEDS


@pytest.fixture(scope="session")
def labelled():
    return read_labelled_set(EVAL, SEEDS)


@pytest.fixture(scope="session")
def corpus_outcomes(embedder, tmp_path_factory, labelled, eval_kb):
    """{corpus or follow-up column: outcomes}, built lazily: a test that needs one corpus builds only that one."""
    built = {}

    def outcomes(corpus: str):
        if corpus.startswith(FOLLOWUPS_WITH[:10]):  # both follow-up columns come from one pass over the eval corpus
            if corpus not in built:
                built.update(ask_followups(eval_kb, labelled))
            return built[corpus]
        if corpus == ANOTHER_CONVERSATION:
            if corpus not in built:
                built[corpus] = ask_in_another_conversation(eval_kb, labelled)
            return built[corpus]
        if corpus not in built:
            kb = eval_kb if corpus == "eval" else build_corpus(corpus, EVAL, SEEDS, tmp_path_factory.mktemp(corpus) / "index", embedder)
            built[corpus] = ask_all(kb, questions_for(corpus, labelled, set(kb.titles())), labelled)
        return built[corpus]

    return outcomes
