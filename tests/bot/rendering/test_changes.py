"""What changed in a story, as an embed: the story's own text, escaped, and within Discord's limits however much changed."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rendering.changes import NOTHING_LISTED, changes_embed
from index import Fact, Narrative, Source, Story, story_changes
from index.models import visible_text
from tests.bot.message_checks import assert_message_within_limits

TITLE = "Eastmere Council Approves Rent Cap"


def story(bullets, narratives=(("Left narrative", "Rents outpaced wages."),), sources=(), updated=date(2025, 4, 3)) -> Story:
    return Story(title=TITLE, updated=updated,
                 facts=[Fact(index=n, text=text, citations=[1]) for n, text in enumerate(bullets, 1)],
                 narratives=[Narrative(label=label, text=text) for label, text in narratives], sources=list(sources))


def body(embed) -> dict:
    return {"embeds": [embed.to_dict()]}


def test_each_kind_of_change_has_its_heading_and_the_date_its_old_value():
    before = story(["The council voted 31 to 24 for the cap.", "The cap starts in June.", "Landlords may appeal."])
    after = story(["The council voted 32 to 23 for the cap.", "The cap starts in June.", "Tenants' groups welcomed it."],
                  narratives=(("Left narrative", "Rents outpaced wages for a decade."), ("Right narrative", "Caps shrink supply.")),
                  sources=[Source(number=1, outlet="Gazette", headline="Cap approved", url="https://gazette.example/cap")],
                  updated=date(2025, 4, 9))
    embed = changes_embed(story_changes(before, after))
    assert embed.title == TITLE
    assert embed.description == (
        "Last updated **April 9, 2025** (was April 3, 2025)\n\n"
        "**New bullets**\n• Tenants' groups welcomed it.[[1]](https://gazette.example/cap)\n"
        "**Reworded**\n• The council voted 32 to 23 for the cap.[[1]](https://gazette.example/cap)\n"
        "  was: ~~The council voted 31 to 24 for the cap.~~\n"
        "**Removed bullets**\n• ~~Landlords may appeal.~~"
    )
    fields = [(f.name, f.value) for f in embed.fields]
    assert fields == [("Left narrative (changed)", "Rents outpaced wages for a decade."),
                      ("Right narrative (new)", "Caps shrink supply."),
                      ("New sources", "[1] Gazette — [Cap approved](https://gazette.example/cap)")]


def test_story_text_is_escaped_so_it_shows_as_written_and_links_nothing():
    sneaky = "Click [here](https://evil.example) **now** @everyone"
    embed = changes_embed(story_changes(story(["Plain bullet."]), story(["Plain bullet.", sneaky])))
    assert r"• Click \[here](https://evil.example) \*\*now\*\* @everyone[1]" in embed.description


def test_a_change_of_citations_only_says_so():
    before = story(["The cap starts in June."])
    after = before.model_copy(update={"facts": [Fact(index=1, text="The cap starts in June.", citations=[2])]})
    assert changes_embed(story_changes(before, after)).description.endswith(NOTHING_LISTED)


def test_a_story_rewritten_from_end_to_end_fits_and_says_how_many_more_changes_there_are():
    before = story([f"Old bullet number {n} about the council's decision on rents, in some detail." * 3 for n in range(300)],
                   narratives=[(f"Narrative {n}", "Old view. " * 200) for n in range(30)])
    after = story([f"Completely different statement {n} from the finance committee, quite unlike the rest." * 3 for n in range(300)],
                  narratives=[(f"Narrative {n}", "New view. " * 200) for n in range(30)],
                  sources=[Source(number=n, outlet="Outlet " * 20, headline="Headline " * 40, url=f"https://x.example/{n}")
                           for n in range(1, 200)])
    changes = story_changes(before, after)
    assert len(changes.added) == len(changes.removed) == 300
    embed = changes_embed(changes)
    assert_message_within_limits(body(embed))
    shown = embed.description.count("\n• ")
    assert embed.description.endswith(f"…and {600 - shown} more")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=1500).filter(visible_text), min_size=1, max_size=40),
       st.lists(st.text(min_size=1, max_size=1500).filter(visible_text), min_size=1, max_size=40),
       st.text(min_size=1, max_size=3000).filter(visible_text))
def test_any_two_versions_fit_discord(old_bullets, new_bullets, narrative):
    before = story(old_bullets)
    after = story(new_bullets, narratives=(("Left narrative", narrative), ("Other", narrative)))
    assert_message_within_limits(body(changes_embed(story_changes(before, after))))
