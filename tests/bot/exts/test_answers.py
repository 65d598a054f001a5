"""`/ask` and mentions, end to end: the real bot and a real index, talking to the fake Discord."""

import asyncio
import re
from pathlib import Path

import pytest

from index.parser import parse_file
from tests.bot.fake_discord import FakeDiscord
from tests.bot.harness import started_bot
from tests.bot.message_checks import assert_message_within_limits, assert_nobody_is_pinged

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module", autouse=True)
def nobody_is_pinged(fake_discord):
    """After the module's tests, in whatever order they ran: every message, answers and refusals alike, had
    mentions disabled."""
    yield
    assert_nobody_is_pinged(fake_discord.requests)

STORIES = Path(__file__).parents[1] / "stories"
RENT_CAP = parse_file(STORIES / "eastmere_rent_cap.txt").story
FERRY = parse_file(STORIES / "brackwater_ferry_strike.txt").story
DEFERRED, MESSAGE, UPDATE_MESSAGE, EPHEMERAL = 5, 4, 7, 64


def description_bullets(embed: dict) -> list[str]:
    return [line for line in embed["description"].splitlines() if line.startswith("• ")]


def rendered_bullets(story) -> set[str]:
    """Each bullet as the bot must show it: the story's words, then its markers linked to listed URLs."""
    urls = {source.number: source.url for source in story.sources if source.url}
    return {
        "• " + fact.text + "".join(f"[[{n}]]({urls[n]})" if n in urls else f"[{n}]" for n in fact.citations)
        for fact in story.facts
    }


def replies_to(fake: FakeDiscord, message: dict) -> list:
    return [
        request for request in fake.find("POST", rf"/channels/{FakeDiscord.CHANNEL_ID}/messages")
        if str((request.json.get("message_reference") or {}).get("message_id")) == message["id"]
    ]


async def ask(fake: FakeDiscord, question: str, **kwargs) -> tuple[dict, float]:
    event = fake.slash_command("ask", {"question": question}, **kwargs)
    return event, await fake.dispatch("INTERACTION_CREATE", event)


async def test_ask_is_acknowledged_then_answered_with_quoted_bullets_and_both_narratives(fake_discord, running_bot):
    event, sent_at = await ask(fake_discord, "Did Eastmere City Council vote to cap annual rent increases at 3%?")
    followups = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))

    callback = fake_discord.callbacks(event["id"])[0]
    assert callback.json["type"] == DEFERRED
    assert callback.at - sent_at < 3.0
    body = followups[0].json
    assert body["allowed_mentions"] == {"parse": []}
    assert not body.get("flags", 0) & EPHEMERAL  # the answer is for the channel
    embed = body["embeds"][0]
    assert embed["title"] == RENT_CAP.title
    assert "Last updated **April 3, 2025**" in embed["description"]
    bullets = description_bullets(embed)
    assert bullets and set(bullets) <= rendered_bullets(RENT_CAP)  # verbatim, nothing of the bot's own
    assert (
        "• Eastmere City Council voted 31 to 24 on Tuesday to cap annual rent increases on private tenancies at 3% "
        "for two years, starting in July.[[1]](https://eastmere-gazette.example/rent-cap)"
    ) in bullets
    assert [(f["name"], f["inline"]) for f in embed["fields"]] == [("Narrative A", True), ("Narrative B", True)]
    assert embed["fields"][0]["value"] == RENT_CAP.narratives[0].text
    assert_message_within_limits(body)


async def test_mentioning_the_bot_gets_the_same_answer_as_a_reply(fake_discord, running_bot):
    message = fake_discord.message_create(
        f"<@{FakeDiscord.BOT_USER_ID}> how long will the Brackwater ferry strike last?", author_id=fake_discord.snowflake()
    )
    await fake_discord.dispatch("MESSAGE_CREATE", message)
    replies = await fake_discord.wait_for(lambda: replies_to(fake_discord, message))
    body = replies[0].json
    assert body["allowed_mentions"] == {"parse": []}
    embed = body["embeds"][0]
    assert embed["title"] == FERRY.title
    assert set(description_bullets(embed)) <= rendered_bullets(FERRY)
    assert description_bullets(embed)[0].startswith("• " + FERRY.facts[0].text)  # "…began a 72-hour strike…"
    assert [f["name"] for f in embed["fields"]] == ["Left narrative", "Right narrative"]
    assert fake_discord.find("POST", rf"/channels/{FakeDiscord.CHANNEL_ID}/typing")
    assert_message_within_limits(body)


async def test_a_reply_to_an_answer_is_a_follow_up_about_its_story(fake_discord, running_bot):
    member = fake_discord.snowflake()
    question = fake_discord.message_create(f"<@{FakeDiscord.BOT_USER_ID}> how long will the Brackwater ferry strike last?", author_id=member)
    await fake_discord.dispatch("MESSAGE_CREATE", question)
    answer = fake_discord.sent_message((await fake_discord.wait_for(lambda: replies_to(fake_discord, question)))[0])

    # No written mention and no story named: the reply itself says what the conversation is about.
    followup = fake_discord.message_create("and the other side?", author_id=member, reply_to=answer)
    await fake_discord.dispatch("MESSAGE_CREATE", followup)
    body = (await fake_discord.wait_for(lambda: replies_to(fake_discord, followup)))[0].json
    embed = body["embeds"][0]
    assert embed["title"] == FERRY.title
    assert [f["name"] for f in embed["fields"]] == ["Left narrative", "Right narrative"]
    assert body["allowed_mentions"] == {"parse": []}

    # Asked without the conversation, the same words are about no story.
    alone = fake_discord.message_create(f"<@{FakeDiscord.BOT_USER_ID}> and the other side?", author_id=fake_discord.snowflake())
    await fake_discord.dispatch("MESSAGE_CREATE", alone)
    reply = (await fake_discord.wait_for(lambda: replies_to(fake_discord, alone)))[0].json
    assert reply["embeds"][0]["title"] != FERRY.title


async def test_a_reply_to_a_member_without_a_mention_is_left_alone(fake_discord, running_bot):
    other = fake_discord.message_create("anyone know about the ferries?", author_id=fake_discord.snowflake(), mentions_bot=False)
    reply = fake_discord.message_create("and the other side?", author_id=fake_discord.snowflake(), mentions_bot=False, reply_to=other)
    await fake_discord.dispatch("MESSAGE_CREATE", reply)
    event, _ = await ask(fake_discord, "What did Osric Venn say about the night sailing?")  # processed after the reply
    await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    assert replies_to(fake_discord, reply) == []


async def test_a_message_that_does_not_mention_the_bot_is_left_alone(fake_discord, running_bot):
    message = fake_discord.message_create("how long will the Brackwater ferry strike last?", author_id=fake_discord.snowflake(),
                                          mentions_bot=False)
    await fake_discord.dispatch("MESSAGE_CREATE", message)
    # A later question proves the first one has been processed (events are handled in order).
    event, _ = await ask(fake_discord, "What did Osric Venn say about the night sailing?")
    await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    assert not replies_to(fake_discord, message)


async def test_a_question_no_story_covers_gets_a_kind_no_with_suggestions(fake_discord, running_bot, knowledge_base):
    question = "What is the best recipe for sourdough bread?"
    expected = knowledge_base.ask(question)
    assert not expected.answered
    event, _ = await ask(fake_discord, question)
    followups = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    embed = followups[0].json["embeds"][0]
    assert embed["title"] == "No story covers that yet"
    assert "Sorry" in embed["description"] and "sourdough" in embed["description"]
    for title in expected.suggestions:
        assert f"• {title}" in embed["description"]
    assert "fields" not in embed or not embed["fields"]


async def test_a_refusal_offers_its_suggested_stories_to_read_privately(fake_discord, running_bot, knowledge_base):
    """A menu under the refusal lists the suggested stories; picking one shows its whole card to the member alone,
    and a story gone since is said to be gone."""
    question = "What is the best recipe for sourdough bread?"
    expected = knowledge_base.ask(question)
    event, _ = await ask(fake_discord, question)
    [sent] = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    assert_message_within_limits(sent.json)
    menu = suggested_stories_menu(sent.json)
    assert [option["label"] for option in menu["options"]] == expected.suggestions
    message = fake_discord.sent_message(sent)
    shown = await pick_from_menu(fake_discord, menu, menu["options"][0]["value"], message)
    assert shown["flags"] & EPHEMERAL
    [card] = shown["embeds"]
    story = knowledge_base.story(expected.suggestions[0])
    assert card["title"] == story.title and len(description_bullets(card)) == len(story.facts)  # the whole card
    again = await pick_from_menu(fake_discord, menu, menu["options"][0]["value"], message)  # a client sends a second pick only once reset
    assert again["embeds"][0]["title"] == story.title
    gone = await pick_from_menu(fake_discord, menu, "a-story-removed-since-0000000", message)
    assert gone["flags"] & EPHEMERAL and "no longer here" in gone["content"]


async def test_the_menu_of_suggested_stories_works_after_a_restart(fake_discord, knowledge_base):
    """A bot started afresh (nothing of the first left in memory) takes a pick on a refusal the first one sent."""
    async with started_bot(knowledge_base, poll_seconds="0"):
        event, _ = await ask(fake_discord, "What is the best recipe for sourdough bread?")
        [sent] = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    menu, message = suggested_stories_menu(sent.json), fake_discord.sent_message(sent)
    async with started_bot(knowledge_base, poll_seconds="0"):
        shown = await pick_from_menu(fake_discord, menu, menu["options"][-1]["value"], message)
    assert shown["flags"] & EPHEMERAL and shown["embeds"][0]["title"] == menu["options"][-1]["label"]


async def test_a_pick_is_answered_when_discord_refuses_to_reset_the_menu(fake_discord, running_bot):
    """Resetting the menu is cosmetic: when Discord refuses that update, the card is still shown, as the response."""
    event, _ = await ask(fake_discord, "What is the best recipe for sourdough bread?")
    [sent] = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    menu, message = suggested_stories_menu(sent.json), fake_discord.sent_message(sent)
    fake_discord.fail("POST", r"/interactions/\d+/[^/]+/callback", 400, times=1)
    picked = fake_discord.select_pick(menu["custom_id"], [menu["options"][0]["value"]], message)
    await fake_discord.dispatch("INTERACTION_CREATE", picked)
    [shown] = await fake_discord.wait_for(lambda: [r.json for r in fake_discord.callbacks(picked["id"]) if r.json["type"] == MESSAGE])
    assert shown["data"]["flags"] & EPHEMERAL and shown["data"]["embeds"][0]["title"] == menu["options"][0]["label"]


def suggested_stories_menu(body: dict) -> dict:
    [menu] = [component for row in body["components"] for component in row["components"] if component["type"] == 3]
    return menu


async def pick_from_menu(fake: FakeDiscord, menu: dict, value: str, message: dict) -> dict:
    """Pick `value` in a select menu of `message`; returns what the bot sent the member after its response to the pick,
    which must update the menu's message with nothing changed (so the client shows the menu unpicked again)."""
    picked = fake.select_pick(menu["custom_id"], [value], message)
    await fake.dispatch("INTERACTION_CREATE", picked)
    response, sent = await fake.wait_for(lambda: len(found := fake.interaction_requests(picked["id"], picked["token"])) >= 2 and found)
    assert response.path.endswith("/callback") and response.json["type"] == UPDATE_MESSAGE  # first the response, then the card
    assert not {"content", "embeds", "components"} & set(response.json.get("data") or {})  # the message as it was
    return sent.json


async def test_an_answer_offers_no_menu_of_stories(fake_discord, running_bot):
    event, _ = await ask(fake_discord, "Did Eastmere City Council vote to cap annual rent increases at 3%?")
    [sent] = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    assert sent.json["embeds"][0]["title"] == RENT_CAP.title
    assert [c["type"] for row in sent.json["components"] for c in row["components"]] == [2, 2]  # 👍 and 👎 alone


async def test_too_long_a_question_is_refused_privately_before_any_acknowledgement(fake_discord, running_bot):
    event, _ = await ask(fake_discord, "Why " + "really " * 90 + "?")
    callbacks = await fake_discord.wait_for(lambda: fake_discord.callbacks(event["id"]))
    body = callbacks[0].json
    assert body["type"] == MESSAGE
    assert body["data"]["flags"] & EPHEMERAL
    assert "500" in body["data"]["content"] and "shorten" in body["data"]["content"]
    assert body["data"]["allowed_mentions"] == {"parse": []}
    await asyncio.sleep(0.2)
    assert len(fake_discord.interaction_requests(int(event["id"]), event["token"])) == 1


async def test_asking_too_often_is_refused_privately(fake_discord, running_bot):
    member = fake_discord.snowflake()
    for _ in range(running_bot.settings.ask_cooldown_rate):
        event, _ = await ask(fake_discord, "What did the Wenlow librarian say?", user_id=member)
        await fake_discord.wait_for(lambda event=event: fake_discord.followups(event["token"]))
    event, _ = await ask(fake_discord, "What did the Wenlow librarian say?", user_id=member)
    callbacks = await fake_discord.wait_for(lambda: fake_discord.callbacks(event["id"]))
    body = callbacks[0].json
    assert body["type"] == MESSAGE and body["data"]["flags"] & EPHEMERAL
    assert re.search(r"wait \d+ seconds", body["data"]["content"])
    # Someone else is not slowed down by it.
    other, _ = await ask(fake_discord, "What did the Wenlow librarian say?")
    assert (await fake_discord.wait_for(lambda: fake_discord.followups(other["token"])))[0].json["embeds"]


async def test_a_failure_is_explained_privately_logged_and_the_bot_keeps_answering(fake_discord, running_bot, monkeypatch, caplog):
    async def broken(question):
        raise RuntimeError("the index fell over")

    monkeypatch.setattr(running_bot, "answer", broken)
    event, _ = await ask(fake_discord, "What rent cap did Eastmere City Council approve?")
    followups = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    sent = fake_discord.interaction_requests(int(event["id"]), event["token"])
    assert [r.method for r in sent] == ["POST", "DELETE", "POST"]  # defer, withdraw "thinking…", private note
    assert followups[0].json["flags"] & EPHEMERAL
    assert "something went wrong" in followups[0].json["content"]
    assert "the index fell over" in caplog.text

    monkeypatch.undo()
    again, _ = await ask(fake_discord, "What rent cap did Eastmere City Council approve?")
    assert (await fake_discord.wait_for(lambda: fake_discord.followups(again["token"])))[0].json["embeds"]


async def test_a_mention_too_long_to_answer_is_refused_by_direct_message(fake_discord, running_bot):
    author = fake_discord.snowflake()
    message = fake_discord.message_create(f"<@{FakeDiscord.BOT_USER_ID}> " + "why " * 200, author_id=author)
    await fake_discord.dispatch("MESSAGE_CREATE", message)
    opened = await fake_discord.wait_for(
        lambda: [r for r in fake_discord.find("POST", "/users/@me/channels") if str(r.json["recipient_id"]) == str(author)]
    )
    assert opened
    direct = await fake_discord.wait_for(
        lambda: [r for r in fake_discord.find("POST", r"/channels/\d+/messages") if "I can take up to 500" in (r.json.get("content") or "")]
    )
    assert direct[0].path != f"/channels/{FakeDiscord.CHANNEL_ID}/messages"  # not in the public channel
    assert direct[0].json["allowed_mentions"] == {"parse": []}
    assert not replies_to(fake_discord, message)


async def test_mentions_and_ask_share_one_question_budget(fake_discord, running_bot):
    member = fake_discord.snowflake()
    for _ in range(running_bot.settings.ask_cooldown_rate):
        message = fake_discord.message_create(f"<@{FakeDiscord.BOT_USER_ID}> What did the Wenlow librarian say?", author_id=member)
        await fake_discord.dispatch("MESSAGE_CREATE", message)
        await fake_discord.wait_for(lambda message=message: replies_to(fake_discord, message))
    event, _ = await ask(fake_discord, "What did the Wenlow librarian say?", user_id=member)
    callback = (await fake_discord.wait_for(lambda: fake_discord.callbacks(event["id"])))[0]
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert re.search(r"wait \d+ seconds", callback.json["data"]["content"])

