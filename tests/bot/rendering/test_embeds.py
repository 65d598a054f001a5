"""Answers and story cards as embeds: extractive, linked, and always within Discord's limits."""

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.records import FeedbackSummary, Tally
from bot.rendering import limits
from bot.rendering.embeds import answer_embeds, catalog_page_embed, feedback_embed, no_answer_embed, story_card_embeds
from index import Answer, AnswerFact, AnswerNarrative, AnswerStory, Source
from tests.bot.message_checks import assert_message_within_limits

GAZETTE = Source(number=1, outlet="Eastmere Gazette", headline="Council approves rent cap",
                 url="https://eastmere-gazette.example/rent-cap")
PAMPHLET = Source(number=2, outlet="Valdoria Pamphlet", headline="No link for this one")


def story(*, facts=None, narratives=None, sources=(GAZETTE, PAMPHLET), title="Eastmere Council Approves Rent Cap"):
    return AnswerStory(
        id="eastmere", title=title, updated="2025-04-03", image_credit="storybot test fixture (fictional story)",
        facts=facts if facts is not None else [
            AnswerFact(index=1, text="The council voted 31 to 24 for the cap.", citations=[1, 2], sources=[GAZETTE, PAMPHLET]),
        ],
        narratives=narratives or [AnswerNarrative(label="Left narrative", text="Rents outpaced wages."),
                                  AnswerNarrative(label="Right narrative", text="Caps shrink supply.")],
        sources=list(sources),
    )


def message(embeds: list[discord.Embed]) -> dict:
    """The body discord.py would send, to check with the same assertion as the end-to-end tests."""
    return {"embeds": [embed.to_dict() for embed in embeds]}


def test_citation_markers_link_to_listed_sources_and_stay_plain_otherwise():
    (embed,) = answer_embeds(Answer(question="q", answered=True, stories=[story()]))
    assert "• The council voted 31 to 24 for the cap.[[1]](https://eastmere-gazette.example/rent-cap)[2]" in embed.description
    assert "Last updated **April 3, 2025**" in embed.description


def test_a_url_with_brackets_cannot_break_its_link():
    odd = Source(number=1, outlet="Gazette", headline="Odd", url="https://gazette.example/a_(b) c")
    fact = AnswerFact(index=1, text="A fact.", citations=[1], sources=[odd])
    (embed,) = answer_embeds(Answer(question="q", answered=True, stories=[story(facts=[fact], sources=[odd])]))
    assert "[[1]](https://gazette.example/a_%28b%29%20c)" in embed.description


def test_story_text_is_shown_as_written_not_as_markdown():
    fact = AnswerFact(index=1, text="Turnout was *up* by 5_000 voters.", citations=[])
    (embed,) = answer_embeds(Answer(question="q", answered=True, stories=[story(facts=[fact])]))
    assert r"Turnout was \*up\* by 5\_000 voters." in embed.description


def test_narratives_sit_side_by_side_with_their_labels():
    (embed,) = answer_embeds(Answer(question="q", answered=True, stories=[story()]))
    assert [(f.name, f.value, f.inline) for f in embed.fields] == [
        ("Left narrative", "Rents outpaced wages.", True), ("Right narrative", "Caps shrink supply.", True)]


def test_an_answer_shows_no_source_list_but_the_card_does():
    answer_embed, = answer_embeds(Answer(question="q", answered=True, stories=[story()]))
    card, = story_card_embeds(story())
    assert "Sources" not in [field.name for field in answer_embed.fields]
    assert card.fields[-1].name == "Sources"
    assert card.fields[-1].value.splitlines() == [
        "[1] Eastmere Gazette — [Council approves rent cap](https://eastmere-gazette.example/rent-cap)",
        "[2] Valdoria Pamphlet — No link for this one",
    ]
    assert card.footer.text == "Image credit: storybot test fixture (fictional story)"


def test_a_long_narrative_is_cut_cleanly_to_the_field_limit():
    long = AnswerNarrative(label="Narrative A", text="word " * 400)
    (embed,) = story_card_embeds(story(narratives=[long, AnswerNarrative(label="Narrative B", text="Short.")]))
    assert len(embed.fields[0].value) <= limits.EMBED_FIELD_VALUE
    assert embed.fields[0].value.endswith(limits.ELLIPSIS)
    assert embed.fields[1].value == "Short."


def test_a_huge_story_card_keeps_its_narratives_and_stays_within_every_limit():
    facts = [AnswerFact(index=i, text=f"Bullet number {i} " + "detail " * 40, citations=[1], sources=[GAZETTE])
             for i in range(1, 80)]
    sources = [Source(number=n, outlet=f"Outlet {n}", headline="Headline " * 10, url=f"https://o{n}.example/x")
               for n in range(1, 120)]
    embeds = story_card_embeds(story(facts=facts, sources=sources))
    assert [f.name for f in embeds[0].fields][:2] == ["Left narrative", "Right narrative"]
    assert embeds[0].description.startswith("Last updated **April 3, 2025**\n\n• Bullet number 1 ")
    assert limits.ELLIPSIS in embeds[0].description
    assert_message_within_limits(message(embeds))


def test_no_answer_is_said_kindly_with_the_suggested_titles():
    embed = no_answer_embed("Who won the *cup*?", ["Eastmere Council Approves Rent Cap", "Lowmoor to Close Libraries"])
    assert embed.title == "No story covers that yet"
    assert embed.description.startswith("Sorry — none of the stories I know covers “Who won the \\*cup\\*?”.")
    assert "• Eastmere Council Approves Rent Cap\n• Lowmoor to Close Libraries" in embed.description


def test_an_unanswered_answer_renders_as_the_no_answer_embed():
    (embed,) = answer_embeds(Answer(question="sourdough?", answered=False, suggestions=["Eastmere Council Approves Rent Cap"]))
    assert embed.title == "No story covers that yet" and "Eastmere Council Approves Rent Cap" in embed.description


def test_catalog_page_lists_titles_with_their_dates():
    embed = catalog_page_embed([story()], page=1, pages=3, total=21)
    assert embed.title == "Stories I know — page 2 of 3"
    assert embed.description == "**Eastmere Council Approves Rent Cap** — April 3, 2025"
    assert embed.footer.text.startswith("21 stories, newest first")


long_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=3000)


@st.composite
def answer_stories(draw):
    sources = [Source(number=n, outlet=draw(st.text(max_size=80)) or None, headline=draw(st.text(max_size=400)) or None,
                      url=f"https://s{n}.example/" + "p" * draw(st.integers(0, 300))) for n in range(1, draw(st.integers(0, 40)))]
    facts = [AnswerFact(index=i, text=draw(long_text), citations=[1, 2], sources=sources[:2])
             for i in range(1, draw(st.integers(1, 40)))]
    narratives = [AnswerNarrative(label=draw(st.text(min_size=1, max_size=400)), text=draw(long_text))
                  for _ in range(draw(st.integers(1, 4)))]
    return story(facts=facts, narratives=narratives, sources=sources, title=draw(st.text(min_size=1, max_size=400)))


@settings(max_examples=40, deadline=None)
@given(st.lists(answer_stories(), min_size=1, max_size=12))
def test_any_answer_fits_in_one_discord_message(stories):
    embeds = answer_embeds(Answer(question="q", answered=True, stories=stories))
    assert_message_within_limits(message(embeds))
    assert all(len(embed.fields) >= 1 for embed in embeds)  # the narratives are never dropped


@settings(max_examples=40, deadline=None)
@given(answer_stories())
def test_any_story_card_fits_in_one_discord_message(card):
    assert_message_within_limits(message(story_card_embeds(card)))


UNSAFE_URLS = ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>",
               "file:///etc/passwd", "vbscript:msgbox", "//evil.example/a", "https:", "ftp://files.example/a", "java\tscript:x"]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_only_http_urls_are_ever_linked(url):
    unsafe = Source(number=1, outlet="Gazette", headline="Headline", url=url)
    fact = AnswerFact(index=1, text="A fact.", citations=[1], sources=[unsafe])
    card = story(facts=[fact], sources=[unsafe])
    (answer,) = answer_embeds(Answer(question="q", answered=True, stories=[card]))
    (full,) = story_card_embeds(card)
    assert "• A fact.[1]" in answer.description and "• A fact.[1]" in full.description
    assert full.fields[-1].value == "[1] Gazette — Headline"
    assert "](" not in answer.description + full.description + full.fields[-1].value


def test_outlet_and_headline_markdown_is_shown_as_written():
    sneaky = Source(number=1, outlet="**Gazette**", headline="Read [this](https://evil.example) _now_", url="https://gazette.example/a")
    (full,) = story_card_embeds(story(sources=[sneaky]))
    assert full.fields[-1].value == r"[1] \*\*Gazette\*\* — [Read \[this\](https://evil.example) \_now\_](https://gazette.example/a)"


def test_narrative_labels_and_titles_are_shown_as_written():
    card = story(title="Rent *cap* [vote](https://evil.example)",
                 narratives=[AnswerNarrative(label="[Left](https://evil.example)", text="a"), AnswerNarrative(label="Right", text="b")])
    (embed,) = story_card_embeds(card)
    assert embed.title == r"Rent \*cap\* \[vote](https://evil.example)"
    assert embed.fields[0].name == r"\[Left](https://evil.example)"


def test_a_feedback_question_is_shown_as_written_to_moderators():
    summary = FeedbackSummary(stories=[Tally("Rent *cap*", 1, 0)], worst=[Tally("why [click](https://evil.example)?", 0, 3)], votes=4)
    embed = feedback_embed(summary)
    assert r"— “why \[click](https://evil.example)?”" in embed.description  # an escaped "[" starts no link
    assert r"— Rent \*cap\*" in embed.description
