"""Generated distractor stories: seeded, valid story files, plausible rivals, never named like the evaluated stories."""

import re

from index.corpus import read_corpus
from index.evaluation.distractors import write_distractors


def test_distractors_are_seeded_valid_and_distinct(tmp_path):
    first = write_distractors(tmp_path / "a", 60, seed=7)
    again = write_distractors(tmp_path / "b", 60, seed=7)
    other = write_distractors(tmp_path / "c", 60, seed=8)
    assert [p.read_text() for p in first] == [p.read_text() for p in again]
    assert [p.read_text() for p in first] != [p.read_text() for p in other]
    corpus = read_corpus([tmp_path / "a"])
    assert not corpus.errors and len(corpus.stories) == 60
    assert all(len(story.facts) >= 4 and len(story.narratives) == 2 for story in corpus.stories)


def test_distractors_compete_on_the_evaluated_topics(tmp_path):
    titles = [story.title for story in read_corpus(write_distractors(tmp_path, 300)).stories]
    for topic in ("Police", "Strike", "Council", "Hospital", "School", "Wind Farm", "Interest Rate", "Election"):
        assert any(topic.lower() in title.lower() for title in titles), topic


def test_no_generated_place_takes_a_name_to_avoid(tmp_path):
    paths = write_distractors(tmp_path / "free", 200, seed=3)
    towns = {word.lower() for p in paths for word in re.findall(r"\b[A-Z][a-z]+(?:by|ford|ham|ley|mouth|bury|field|haven|ton|dale)\b", p.read_text())}
    avoided = sorted(towns)[:5]
    text = " ".join(p.read_text().lower() for p in write_distractors(tmp_path / "avoid", 200, seed=3, avoid=set(avoided)))
    assert avoided and not any(re.search(rf"\b{name}\b", text) for name in avoided)


def test_beyond_the_templates_distinct_titles_repeated_titles_are_numbered_not_redrawn(tmp_path):
    """The benchmark's corpora need more stories than the templates have titles: a repeat is numbered."""
    plain = write_distractors(tmp_path / "plain", 400, seed=5)
    numbered = write_distractors(tmp_path / "numbered", 1500, seed=5, number_repeats=True)
    corpus = read_corpus([tmp_path / "numbered"])
    assert not corpus.errors and len(corpus.stories) == 1500
    titles = [story.title.casefold() for story in corpus.stories]
    assert len(set(titles)) == len(titles)
    assert any(re.search(r" \(\d+\)$", title) for title in titles)  # the templates ran out at least once
    # Until its first repeat, a numbered run writes the same stories as the default run.
    first_repeat = next(n for n, p in enumerate(numbered) if re.search(r" \(\d+\)$", p.read_text().split("\n", 1)[0]))
    assert [p.read_text() for p in numbered[:min(first_repeat, 400)]] == [p.read_text() for p in plain[:min(first_repeat, 400)]]
