"""`/storyadmin` end to end: the real bot, a real index and real files, talking to the fake Discord.

The module has its own copy of the test stories and its own index, since these tests change both.
"""

import asyncio
import json
import textwrap
import threading
from pathlib import Path

import discord
import pytest
import pytest_asyncio

import index
from bot.records import Records
from tests.bot.fake_discord import MANAGE_MESSAGES, FakeDiscord
from tests.bot.harness import started_bot
from tests.bot.message_checks import assert_nobody_is_pinged, message_bodies
from tests.support import write_story

pytestmark = pytest.mark.asyncio(loop_scope="session")

STORIES = Path(__file__).parents[1] / "stories"
DEFERRED, MESSAGE, AUTOCOMPLETE_RESULT, EPHEMERAL = 5, 4, 8, 64
MODERATOR = 1300000000000000001
NO_STORY = "No story covers that yet"

HARBOUR = textwrap.dedent("""\
    Kestrel Harbour Seawall Gets Emergency Repairs
    Last updated March 9, 2025
    Image credit: storybot test fixture (fictional story)

    • Engineers found a 40-metre crack in the Kestrel Harbour seawall after the February storms.[1]
    • The port authority will spend 6 million crowns on emergency repairs, starting with steel sheet piling.[1]
    • Fishing boats must moor at Gull Point until the repairs finish in September.[2]

    Narrative A

    Acting fast on the seawall protects homes and the fishing fleet before the next storm season.

    Narrative B

    The crack was reported years ago; emergency spending now is the price of ignoring maintenance.

    Articles on this story

    [1] Kestrel Courier — Seawall crack prompts emergency works (https://kestrel-courier.example/seawall)
    [2] Coast Weekly — Fishing fleet moved to Gull Point
""")
HARBOUR_QUESTION = "How much will the emergency repairs to the Kestrel Harbour seawall cost?"
WRENFIELD_TITLE = "Wrenfield Dam Sluice Gates Replaced"
WRENFIELD = HARBOUR.replace("Kestrel Harbour Seawall Gets Emergency Repairs", WRENFIELD_TITLE) \
                   .replace("Kestrel Harbour seawall", "Wrenfield Dam sluice gates")


@pytest_asyncio.fixture(loop_scope="session")
async def admin_bot(fake_discord, embedder, stories_dir, index_dir):
    knowledge_base = index.load(index_dir, embedder=embedder)
    async with started_bot(knowledge_base, stories_dir=str(stories_dir), poll_seconds="0.2") as bot:
        yield bot
    if message_bodies(fake_discord.requests):  # every message so far, answers and refusals alike
        assert_nobody_is_pinged(fake_discord.requests)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


async def run(fake: FakeDiscord, event: dict, timeout: float = 30.0) -> dict:
    """Dispatch an interaction and return the body of the last thing the member was told."""
    await fake.dispatch("INTERACTION_CREATE", event)
    done = await fake.wait_for(
        lambda: fake.followups(event["token"]) or [c for c in fake.callbacks(event["id"]) if c.json["type"] != DEFERRED],
        timeout,
    )
    request = done[-1]
    return request.json["data"] if request.path.endswith("/callback") else request.json


async def add(fake: FakeDiscord, filename: str, text: str, **kwargs) -> dict:
    kwargs.setdefault("permissions", MANAGE_MESSAGES)
    kwargs.setdefault("user_id", MODERATOR)
    return await run(fake, fake.subcommand("storyadmin", "add", {"file": fake.attachment(filename, text.encode())}, **kwargs))


async def ask(fake: FakeDiscord, question: str) -> dict:
    """The answer embed."""
    return (await run(fake, fake.slash_command("ask", {"question": question})))["embeds"][0]


def audit(bot) -> list[tuple]:
    return [(e.action, e.title, e.file, e.actor_id, e.detail) for e in Records.beside(bot.library.index_dir).audit_log()]


async def test_storyadmin_is_hidden_from_members_and_has_its_four_commands(fake_discord, admin_bot):
    [command] = [c for c in fake_discord.synced_commands if c["name"] == "storyadmin"]
    assert int(command["default_member_permissions"]) == discord.Permissions(manage_messages=True).value
    assert command["contexts"] == [0]
    assert {o["name"]: o["type"] for o in command["options"]} == {"add": 1, "remove": 1, "reindex": 1, "feedback": 1}
    add_options = next(o for o in command["options"] if o["name"] == "add")["options"]
    assert [(o["name"], o["type"]) for o in add_options] == [("file", 11)]  # an attachment


async def test_a_bad_attachment_gets_line_numbered_errors_privately_and_nothing_changes(fake_discord, admin_bot, stories_dir, index_dir):
    bad = "Broken Story\nLast updated May 1, 2025\nBy a staff reporter\n• A bullet with a bad marker.[one]\n• Fine bullet.[2]\n• Also bad.[0]\n"
    before, current = snapshot(stories_dir), (index_dir / "CURRENT").read_text()
    knowledge_base = admin_bot.knowledge_base
    body = await add(fake_discord, "broken.txt", bad)
    assert body["flags"] & EPHEMERAL
    content = body["content"]
    assert content.startswith("Nothing was changed: “broken.txt” has 2 problem(s)")
    assert "• line 4: citation [one] is not a number from 1 to 9999" in content
    assert "• line 6: citation [0] is not a number from 1 to 9999" in content
    assert "Warnings:\n• line 3: unrecognised line before the first bullet ignored: 'By a staff reporter'" in content
    assert snapshot(stories_dir) == before
    assert (index_dir / "CURRENT").read_text() == current
    assert admin_bot.knowledge_base is knowledge_base
    assert audit(admin_bot) == []

    body = await add(fake_discord, "story.pdf", "%PDF")
    assert body["flags"] & EPHEMERAL and "ending in .txt or .json" in body["content"]
    body = await add(fake_discord, "story.json", '{"title": "No bullets", "facts": []}')
    assert "line 1: facts: List should have at least 1 item" in body["content"]
    assert snapshot(stories_dir) == before


async def test_a_json_story_whose_fact_numbers_lie_is_refused_and_nothing_changes(fake_discord, admin_bot, stories_dir, index_dir):
    before, current, knowledge_base = snapshot(stories_dir), (index_dir / "CURRENT").read_text(), admin_bot.knowledge_base
    story = {"title": "Lying Numbers", "facts": [{"index": 7, "text": "Only one bullet.", "citations": [1]}]}
    body = await add(fake_discord, "lying.json", json.dumps(story, indent=2))
    assert body["content"].startswith("Nothing was changed: “lying.json” has 1 problem(s)")
    assert "• line 5: facts[0].index: bullet 1 is numbered 7" in body["content"]
    assert snapshot(stories_dir) == before and (index_dir / "CURRENT").read_text() == current
    assert admin_bot.knowledge_base is knowledge_base
    assert len(knowledge_base.catalog()) == len(knowledge_base.titles())  # /stories still works for everyone


async def test_a_moderator_adds_a_story_by_attachment_and_the_next_ask_answers_from_it(fake_discord, admin_bot, stories_dir):
    assert (await ask(fake_discord, HARBOUR_QUESTION))["title"] == NO_STORY
    old_knowledge_base = admin_bot.knowledge_base

    body = await add(fake_discord, "harbour.txt", HARBOUR)
    assert body["flags"] & EPHEMERAL
    assert body["content"].startswith("Added “Kestrel Harbour Seawall Gets Emergency Repairs” (3 bullets, 2 narratives)")
    assert body["allowed_mentions"] == {"parse": []}
    saved = [path for path in stories_dir.iterdir() if path.read_text() == HARBOUR]
    assert len(saved) == 1 and not list(stories_dir.glob(".*"))  # saved once, no temporary file left behind
    assert admin_bot.knowledge_base is not old_knowledge_base

    embed = await ask(fake_discord, HARBOUR_QUESTION)
    assert embed["title"] == "Kestrel Harbour Seawall Gets Emergency Repairs"
    assert "6 million crowns" in embed["description"]
    assert audit(admin_bot) == [("add", embed["title"], saved[0].name, MODERATOR, "/storyadmin add")]
    assert old_knowledge_base.story(embed["title"]) is None  # questions already running kept the old index

    # /story's autocomplete and /stories follow the new index too.
    event = fake_discord.autocomplete("story", "title", "kestrel seawall", permissions=MANAGE_MESSAGES)
    await fake_discord.dispatch("INTERACTION_CREATE", event)
    callback = (await fake_discord.wait_for(lambda: fake_discord.callbacks(event["id"])))[0]
    assert callback.json["data"]["choices"][0] == {"name": embed["title"], "value": index.models.story_id_for(embed["title"])}


async def test_the_same_story_again_changes_no_file_but_is_logged(fake_discord, admin_bot, stories_dir):
    assert (await add(fake_discord, "harbour.txt", HARBOUR))["content"].startswith("Added")
    before = snapshot(stories_dir)
    body = await add(fake_discord, "harbour-again.txt", HARBOUR)
    assert body["content"].startswith("Already up to date: “Kestrel Harbour Seawall Gets Emergency Repairs”")
    assert snapshot(stories_dir) == before
    [saved] = [name for name, data in before.items() if data == HARBOUR.encode()]
    assert audit(admin_bot)[-1] == ("update", "Kestrel Harbour Seawall Gets Emergency Repairs", saved, MODERATOR,
                                    "/storyadmin add (same content)")


async def test_an_updated_story_replaces_the_old_file_and_its_index_entries(fake_discord, admin_bot, stories_dir):
    rent_cap = index.parser.parse_file(STORIES / "eastmere_rent_cap.txt").story
    updated = rent_cap.model_dump(mode="json", exclude={"id", "source_file"})
    updated["facts"] = [{"index": 1, "text": "Eastmere's rent cap was struck down by the High Court of Valdoria on 14 May.",
                         "citations": [1]}, *updated["facts"][1:]]
    body = await add(fake_discord, "rent-cap-update.json", json.dumps(updated))
    assert body["content"].startswith(f"Updated “{rent_cap.title}”")
    holding = [p.name for p in stories_dir.iterdir() if rent_cap.title in p.read_text()]
    assert holding == [f"{rent_cap.id}.json"]  # the old .txt is gone: one story, one file
    assert not (stories_dir / "eastmere_rent_cap.txt").exists()

    story = admin_bot.knowledge_base.story(rent_cap.title)
    assert story.facts[0].text.startswith("Eastmere's rent cap was struck down")
    assert len(admin_bot.knowledge_base.titles()) == len(list(STORIES.glob("*.txt")))  # replaced, not added
    embed = await ask(fake_discord, "Did the High Court strike down the Eastmere rent cap?")
    assert embed["title"] == rent_cap.title and "struck down by the High Court" in embed["description"]
    assert audit(admin_bot)[-1] == ("update", rent_cap.title, f"{rent_cap.id}.json", MODERATOR, "/storyadmin add")


async def test_remove_autocompletes_titles_and_makes_the_story_unanswerable(fake_discord, admin_bot, stories_dir):
    event = fake_discord.subcommand_autocomplete("storyadmin", "remove", "title", "ferry", permissions=MANAGE_MESSAGES)
    choices = (await run(fake_discord, event))["choices"]
    ferry = "Brackwater Ferry Crews Strike Over Night Shifts"
    assert choices[0] == {"name": ferry, "value": index.models.story_id_for(ferry)}
    question = "How long will the Brackwater ferry strike last?"
    assert (await ask(fake_discord, question))["title"] == ferry

    body = await run(fake_discord, fake_discord.subcommand("storyadmin", "remove", {"title": "Brackwater Ferry"},
                                                          permissions=MANAGE_MESSAGES, user_id=MODERATOR))
    assert body["flags"] & EPHEMERAL and "I don't know a story called “Brackwater Ferry”" in body["content"]
    assert (stories_dir / "brackwater_ferry_strike.txt").exists()  # never a guess for a destructive command

    body = await run(fake_discord, fake_discord.subcommand("storyadmin", "remove", {"title": ferry.lower()},
                                                          permissions=MANAGE_MESSAGES, user_id=MODERATOR))
    assert body["flags"] & EPHEMERAL
    assert body["content"] == f"Removed “{ferry}” (brackwater_ferry_strike.txt). {len(list(STORIES.glob('*.txt'))) - 1} stories remain."
    assert not (stories_dir / "brackwater_ferry_strike.txt").exists()
    embed = await ask(fake_discord, question)
    assert embed["title"] != ferry
    assert ferry not in admin_bot.knowledge_base.titles()
    assert audit(admin_bot)[-1] == ("remove", ferry, "brackwater_ferry_strike.txt", MODERATOR, "/storyadmin remove")


async def test_a_file_dropped_in_by_hand_is_picked_up_by_polling(fake_discord, admin_bot, stories_dir):
    (stories_dir / ".wrenfield.tmp").write_text(WRENFIELD)  # as an editor saves: a hidden file, then one rename
    (stories_dir / ".wrenfield.tmp").rename(stories_dir / "wrenfield.txt")
    title = WRENFIELD_TITLE
    await fake_discord.wait_for(lambda: admin_bot.knowledge_base.story(title), timeout=20)
    embed = await ask(fake_discord, "How much will the repairs to the Wrenfield Dam sluice gates cost?")
    assert embed["title"] == title
    assert audit(admin_bot)[-1] == ("add", title, "wrenfield.txt", None, "directory poll")
    assert Records.beside(admin_bot.library.index_dir).audit_log()[-1].actor == "directory watcher"


async def test_questions_are_answered_from_the_old_index_while_a_change_is_built(fake_discord, admin_bot, monkeypatch):
    library = admin_bot.get_cog("StoryAdmin").library
    building, finish = threading.Event(), threading.Event()
    rebuild = library._rebuild

    def slow_rebuild(**files):
        building.set()
        finish.wait(30)
        return rebuild(**files)

    monkeypatch.setattr(library, "_rebuild", slow_rebuild)
    before = admin_bot.knowledge_base
    event = fake_discord.subcommand("storyadmin", "reindex", permissions=MANAGE_MESSAGES, user_id=MODERATOR)
    await fake_discord.dispatch("INTERACTION_CREATE", event)
    assert await asyncio.to_thread(building.wait, 10)
    embed = await ask(fake_discord, "Which Lowmoor branch libraries will close?")  # answered mid-build
    assert embed["title"] == "Lowmoor to Close Four Branch Libraries"
    assert not fake_discord.followups(event["token"]) and admin_bot.knowledge_base is before
    finish.set()
    await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    assert admin_bot.knowledge_base is not before  # swapped in once complete


async def test_a_hand_edit_made_during_a_moderator_change_is_picked_up_by_the_next_poll(fake_discord, admin_bot, stories_dir, monkeypatch):
    cog = admin_bot.get_cog("StoryAdmin")
    cog.watch.cancel()  # polled by hand below, so that the poll comes exactly after the change
    rebuild = cog.library._rebuild
    title = "Gull Point Lighthouse Relit"

    def rebuild_then_an_editor_saves_a_file(**files):  # files: the ones the change wrote
        result = rebuild(**files)
        write_story(stories_dir, "lighthouse.txt", f"{title}\n- The lighthouse was relit on Friday.[1]\n")
        return result

    monkeypatch.setattr(cog.library, "_rebuild", rebuild_then_an_editor_saves_a_file)
    body = await add(fake_discord, "pier-again.txt", "Gull Point Pier Closes Again\n- The pier closed again.[1]\n")
    assert body["content"].startswith("Added")
    monkeypatch.setattr(cog.library, "_rebuild", rebuild)
    assert admin_bot.knowledge_base.story(title) is None
    assert await cog.pick_up_hand_edits() is not None
    assert admin_bot.knowledge_base.story(title).title == title


async def test_reindex_picks_up_hand_edits_and_lists_invalid_files(fake_discord, admin_bot, stories_dir):
    admin_bot.get_cog("StoryAdmin").watch.cancel()  # only the command
    (stories_dir / "wrenfield.txt").write_text(WRENFIELD)
    await run(fake_discord, fake_discord.subcommand("storyadmin", "reindex", permissions=MANAGE_MESSAGES, user_id=MODERATOR))
    assert admin_bot.knowledge_base.story(WRENFIELD_TITLE) is not None
    (stories_dir / "wrenfield.txt").unlink()
    (stories_dir / "notes.txt").write_text("Just some notes\nwith no bullets at all\n")
    body = await run(fake_discord, fake_discord.subcommand("storyadmin", "reindex", permissions=MANAGE_MESSAGES, user_id=MODERATOR))
    assert body["flags"] & EPHEMERAL
    assert body["content"].startswith(f"indexed {len(list(STORIES.glob('*.txt')))} stories (0 added, 0 updated, 1 removed)")
    assert "Skipped 1 invalid file(s):\n• notes.txt: line 2: no bullets" in body["content"]
    assert admin_bot.knowledge_base.story(WRENFIELD_TITLE) is None
    *_, removed, reindexed = audit(admin_bot)
    assert removed == ("remove", WRENFIELD_TITLE, "wrenfield.txt", MODERATOR, "/storyadmin reindex")
    assert reindexed[0] == "reindex" and reindexed[3] == MODERATOR


async def test_a_json_id_never_names_a_file_or_replaces_another_story(fake_discord, admin_bot, stories_dir, tmp_path):
    outside = stories_dir.parent / "outside.json"
    titles = admin_bot.knowledge_base.titles()
    rent_cap = index.parser.parse_file(STORIES / "eastmere_rent_cap.txt").story
    rent_cap_file = admin_bot.knowledge_base.source_file(rent_cap.title)
    for given in ["../outside", str(outside.with_suffix("")), rent_cap.id, rent_cap.title]:
        story = {"id": given, "title": "Gull Point Pier Reopens", "facts": [{"index": 1, "text": "The pier reopened.", "citations": [1]}]}
        body = await add(fake_discord, "pier.json", json.dumps(story))
        assert "“Gull Point Pier Reopens”" in body["content"] and "id is ignored" in body["content"]
        assert not outside.exists() and not list(stories_dir.parent.glob("*.tmp")) and not list(stories_dir.glob(".*"))
        assert admin_bot.knowledge_base.story(rent_cap.title).title == rent_cap.title
        assert rent_cap_file.exists()
    assert sorted(admin_bot.knowledge_base.titles()) == sorted([*titles, "Gull Point Pier Reopens"])
    saved = index.models.story_id_for("Gull Point Pier Reopens") + ".json"
    assert (stories_dir / saved).exists()


async def test_story_text_in_replies_to_moderators_is_escaped(fake_discord, admin_bot, stories_dir):
    title = "Pier [reopens](https://evil.example) *today*"
    body = await add(fake_discord, "pier.txt", f"{title}\nBy [us](https://evil.example)\n- The pier reopened.[1]\n")
    assert body["content"].startswith(r"Added “Pier \[reopens](https://evil.example) \*today\*”")
    assert r"ignored: 'By \[us](https://evil.example)'" in body["content"]
    body = await run(fake_discord, fake_discord.subcommand("storyadmin", "remove", {"title": title}, permissions=MANAGE_MESSAGES, user_id=MODERATOR))
    assert body["content"].startswith(r"Removed “Pier \[reopens](https://evil.example) \*today\*”")

