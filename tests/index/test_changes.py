"""What changed between two versions of a story (index/changes.py): bullets, narratives, sources and the date."""

from datetime import date

import pytest

from index import Fact, Narrative, Source, Story, story_changes
from index.changes import REWORDED_SIMILARITY

BULLETS = [
    "Engineers found a 40-metre crack in the Kestrel Harbour seawall after the February storms.",
    "The port authority will spend 6 million crowns on emergency repairs, starting with steel sheet piling.",
    "Fishing boats must moor at Gull Point until the repairs finish in September.",
]
NARRATIVES = {"Narrative A": "Acting fast protects homes and the fishing fleet.",
              "Narrative B": "The crack was reported years ago; this is the price of ignoring maintenance."}
SOURCES = [Source(number=1, outlet="Kestrel Courier", headline="Seawall crack prompts works", url="https://courier.example/seawall"),
           Source(number=2, outlet="Coast Weekly", headline="Fleet moved to Gull Point")]


def story(bullets=BULLETS, narratives=NARRATIVES, sources=SOURCES, updated=date(2025, 3, 9), citations=None) -> Story:
    return Story(
        title="Kestrel Harbour Seawall Gets Emergency Repairs", updated=updated,
        facts=[Fact(index=n, text=text, citations=(citations or {}).get(n, [1])) for n, text in enumerate(bullets, 1)],
        narratives=[Narrative(label=label, text=text) for label, text in narratives.items()], sources=sources,
    )


def test_the_same_story_has_no_changes():
    changes = story_changes(story(), story())
    assert changes.empty and not changes.date_changed and changes.count == 0


def test_a_new_bullet_is_added_wherever_it_is_and_moved_bullets_are_unchanged():
    new = "Repair crews will work through the night during spring tides."
    changes = story_changes(story(), story([BULLETS[2], new, BULLETS[0], BULLETS[1]]))
    assert [f.text for f in changes.added] == [new]
    assert changes.added[0].index == 2
    assert changes.removed == [] and changes.reworded == []


def test_a_dropped_bullet_is_removed():
    changes = story_changes(story(), story(BULLETS[:1] + BULLETS[2:]))
    assert [f.text for f in changes.removed] == [BULLETS[1]]
    assert changes.added == [] and changes.reworded == []


def test_a_bullet_with_a_number_changed_is_reworded_not_removed_and_added():
    reworded = BULLETS[1].replace("6 million", "8.5 million")
    changes = story_changes(story(), story([BULLETS[0], reworded, BULLETS[2]]))
    [pair] = changes.reworded
    assert (pair.before.text, pair.after.text) == (BULLETS[1], reworded)
    assert pair.before.index == pair.after.index == 2
    assert pair.similarity >= REWORDED_SIMILARITY
    assert changes.added == [] and changes.removed == []


def test_a_different_bullet_in_the_same_place_is_a_removal_and_an_addition():
    other = "The harbour master resigned on Tuesday over the handling of the storm warnings."
    changes = story_changes(story(), story([BULLETS[0], other, BULLETS[2]]))
    assert [f.text for f in changes.added] == [other]
    assert [f.text for f in changes.removed] == [BULLETS[1]]
    assert changes.reworded == []


def test_rewordings_pair_with_their_closest_bullet_each_at_most_once():
    first = BULLETS[0].replace("40-metre", "45-metre")
    third = BULLETS[2].replace("September", "October")
    changes = story_changes(story(), story([third, BULLETS[1], first]))
    assert sorted((p.before.text, p.after.text) for p in changes.reworded) == sorted([(BULLETS[0], first), (BULLETS[2], third)])
    assert [p.after.index for p in changes.reworded] == [1, 3]  # in the new version's order


def test_a_bullet_written_twice_counts_twice():
    changes = story_changes(story(), story([*BULLETS, BULLETS[0]]))
    assert [(f.index, f.text) for f in changes.added] == [(4, BULLETS[0])]


def test_narratives_changed_new_and_removed_are_matched_by_label():
    after = {"narrative a": NARRATIVES["Narrative A"] + " Insurers agree.", "Narrative C": "A third view."}
    changes = story_changes(story(), story(narratives=after))
    assert [(n.label, n.before, n.after) for n in changes.narratives] == [
        ("narrative a", NARRATIVES["Narrative A"], after["narrative a"]),
        ("Narrative C", None, "A third view."),
        ("Narrative B", NARRATIVES["Narrative B"], None),
    ]


def test_new_sources_are_those_with_a_new_url_or_a_new_outlet_and_headline():
    renumbered = [s.model_copy(update={"number": s.number + 1}) for s in SOURCES]
    added = Source(number=1, outlet="Harbour Post", headline="Night works begin", url="https://post.example/night")
    changes = story_changes(story(), story(sources=[added, *renumbered]))
    assert changes.new_sources == [added]
    assert story_changes(story(), story(sources=renumbered)).new_sources == []


def test_the_date_is_reported_and_a_citation_only_change_lists_nothing():
    changes = story_changes(story(), story(updated=date(2025, 4, 2), citations={1: [1, 2]}))
    assert changes.date_changed
    assert (changes.previously_updated, changes.updated) == (date(2025, 3, 9), date(2025, 4, 2))
    assert changes.empty


def test_two_different_stories_are_refused():
    other = Story(title="Another story", facts=[Fact(index=1, text="A bullet.")])
    with pytest.raises(ValueError, match="two different stories"):
        story_changes(story(), other)


def test_no_two_different_bullets_of_an_evaluation_story_would_pass_as_reworded():
    """The threshold's floor, measured: every pair of bullets within each of the evaluation's stories."""
    from itertools import combinations

    from rapidfuzz import fuzz, utils

    from index.parser import parse_file
    from tests.support import EVAL

    scores = []
    for path in sorted((EVAL / "stories").glob("*.txt")):
        facts = parse_file(path).story.facts
        scores += [fuzz.ratio(a.text, b.text, processor=utils.default_process) for a, b in combinations(facts, 2)]
    assert len(scores) > 1000
    assert max(scores) < REWORDED_SIMILARITY
