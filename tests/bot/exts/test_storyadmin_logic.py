"""The /storyadmin extension's decisions, with spec'd fakes (tests/bot/spec_fakes.py) and the real story parser:
what is refused before anything changes, what is changed, what is audited, what the moderator is told.
tests/bot/exts/test_storyadmin.py proves the same cog wired to a real discord.py, library and records."""

from pathlib import Path
from unittest import mock

import discord
import pytest
from discord import app_commands
from discord.utils import maybe_coroutine

from bot.exts.stories import Stories
from bot.exts.storyadmin import AUDIT_UNAVAILABLE, FEEDBACK_UNAVAILABLE, WATCHER, StoryAdmin
from bot.records import RecordsUnavailable
from bot.utils.checks import MODERATORS
from index import Change, Library, LibraryError
from index.builder import BuildReport
from index.errors import Problem
from tests.bot.spec_fakes import MEMBER_ID, fake_bot, fake_interaction, private_text

pytestmark = pytest.mark.asyncio(loop_scope="session")

STORY_FILE = Path(__file__).parents[1] / "stories" / "tidewell_observatory.txt"
TITLE = "Tidewell Observatory Wins Funding for New Telescope"


@pytest.fixture
def bot():
    bot = fake_bot()
    # The real validation (the parser), on the fake library: what a moderator is told about a file is the parser's.
    bot.library.validate.side_effect = lambda data, filename: Library.validate(bot.library, data, filename)
    bot.library.relative.side_effect = lambda path: Path(path).name if path else None
    return bot


@pytest.fixture
def cog(bot):
    return StoryAdmin(bot)


def attachment(filename: str, data: bytes) -> discord.Attachment:
    file = mock.create_autospec(discord.Attachment, instance=True)
    file.filename, file.size = filename, len(data)
    file.read.return_value = data
    return file


def change(*, added=(), updated=(), removed=(), stories=5, file="tidewell.txt", problems=()) -> Change:
    report = BuildReport(out=Path("index"), stories=stories, added=list(added), updated=list(updated), removed=list(removed),
                         problems=list(problems))
    return Change(report, Path("stories") / file, {title: file for title in (*added, *updated, *removed)})


async def test_add_refuses_a_file_that_is_not_a_story_without_reading_it(cog, bot):
    interaction, file = fake_interaction(), attachment("notes_*draft*.pdf", b"%PDF")
    await cog.add.callback(cog, interaction, file)
    assert "ending in .txt or .json; “notes\\_\\*draft\\*.pdf” is neither" in private_text(interaction)
    file.read.assert_not_awaited()
    bot.library.add.assert_not_called()


async def test_add_refuses_a_file_over_the_limit_without_reading_it(cog, bot):
    interaction, file = fake_interaction(), attachment("big.txt", b"")
    file.size = Library.max_file_bytes + 1
    await cog.add.callback(cog, interaction, file)
    assert f"the file is {Library.max_file_bytes + 1:,} bytes; the limit is {Library.max_file_bytes:,}" in private_text(interaction)
    file.read.assert_not_awaited()


async def test_add_lists_an_invalid_files_problems_by_line_and_changes_nothing(cog, bot):
    interaction = fake_interaction()
    await cog.add.callback(cog, interaction, attachment("bad.txt", b"A Title\n- a fact [x]\n"))
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    text = private_text(interaction)
    assert text.startswith("Nothing was changed: “bad.txt” has") and "• line 2: citation [x] is not a number" in text
    bot.library.add.assert_not_called()
    bot.records.audit.assert_not_called()


async def test_add_saves_indexes_and_audits_a_new_story(cog, bot):
    data = STORY_FILE.read_bytes()
    bot.library.add.return_value = change(added=[TITLE])
    interaction = fake_interaction()
    await cog.add.callback(cog, interaction, attachment("tidewell.txt", data))
    bot.library.add.assert_called_once_with(data, "tidewell.txt")
    bot.records.audit.assert_called_once_with("add", actor=f"member{MEMBER_ID}", actor_id=MEMBER_ID, title=TITLE,
                                              file="tidewell.txt", detail="/storyadmin add")
    assert private_text(interaction).startswith(f"Added “{TITLE}” (3 bullets, 2 narratives) in tidewell.txt. Members can ask")


async def test_adding_the_same_story_again_is_still_audited_as_the_moderators_change(cog, bot):
    bot.library.add.return_value = change()  # nothing added or updated: the same content
    interaction = fake_interaction()
    await cog.add.callback(cog, interaction, attachment("tidewell copy.txt", STORY_FILE.read_bytes()))
    assert private_text(interaction).startswith(f"Already up to date: “{TITLE}”")
    bot.records.audit.assert_called_once_with("update", actor=f"member{MEMBER_ID}", actor_id=MEMBER_ID, title=TITLE,
                                              file="tidewell.txt", detail="/storyadmin add (same content)")


async def test_a_change_the_library_refuses_is_explained(cog, bot):
    bot.library.add.side_effect = LibraryError("the stories folder is read-only")
    interaction = fake_interaction()
    await cog.add.callback(cog, interaction, attachment("tidewell.txt", STORY_FILE.read_bytes()))
    assert private_text(interaction) == f"Could not add “{TITLE}”: the stories folder is read-only"
    bot.records.audit.assert_not_called()


async def test_a_change_stands_when_the_audit_log_is_unavailable_and_the_moderator_is_told(cog, bot):
    bot.library.add.return_value = change(updated=[TITLE])
    bot.records.audit.side_effect = RecordsUnavailable("database is locked")
    interaction = fake_interaction()
    await cog.add.callback(cog, interaction, attachment("tidewell.txt", STORY_FILE.read_bytes()))
    first, second, *_ = private_text(interaction).splitlines()
    assert first.startswith(f"Updated “{TITLE}”") and second == AUDIT_UNAVAILABLE


async def test_remove_never_guesses_a_title(cog, bot):
    bot.library.find_title.return_value = None
    interaction = fake_interaction()
    await cog.remove.callback(cog, interaction, "tidewell telescop")
    bot.library.find_title.assert_called_once_with("tidewell telescop")
    assert "I don't know a story called “tidewell telescop”; nothing was removed" in private_text(interaction)
    bot.library.remove.assert_not_called()


async def test_remove_drops_the_story_audits_it_and_says_what_remains(cog, bot):
    bot.library.find_title.return_value = TITLE
    bot.library.remove.return_value = change(removed=[TITLE], stories=3)
    interaction = fake_interaction()
    await cog.remove.callback(cog, interaction, "tidewell observatory wins funding for new telescope")
    bot.library.remove.assert_called_once_with(TITLE)
    assert private_text(interaction) == f"Removed “{TITLE}” (tidewell.txt). 3 stories remain."
    assert bot.records.audit.call_args.args == ("remove",) and bot.records.audit.call_args.kwargs["title"] == TITLE


async def test_reindex_lists_the_invalid_files_it_skipped_and_audits_the_run(cog, bot):
    skipped = Problem(Path("/srv/stories/bad.txt"), 3, "citation [x] is not a number")
    bot.library.reindex.return_value = change(added=["A New One"], problems=[skipped, Problem(Path("/srv/stories/ok.txt"), 4, "no source", False)])
    interaction = fake_interaction()
    await cog.reindex.callback(cog, interaction)
    lines = private_text(interaction).splitlines()
    assert lines[0].startswith("indexed 5 stories (1 added, 0 updated, 0 removed)") and "index" not in lines[0].split(";")[-1]
    assert lines[1:] == ["Skipped 1 invalid file(s):", "• bad.txt: line 3: citation [x] is not a number"]
    assert [call.args[0] for call in bot.records.audit.call_args_list] == ["add", "reindex"]


async def test_feedback_says_privately_when_the_records_are_unavailable(cog, bot):
    bot.records.summary.side_effect = RecordsUnavailable("database disk image is malformed")
    interaction = fake_interaction()
    await cog.feedback.callback(cog, interaction)
    assert private_text(interaction) == FEEDBACK_UNAVAILABLE


async def test_the_watcher_reindexes_only_when_the_folder_changed_and_audits_as_itself(cog, bot):
    bot.library.changed_on_disk.return_value = False
    assert await cog.pick_up_hand_edits() is None
    bot.library.reindex.assert_not_called()

    bot.library.changed_on_disk.return_value = True
    bot.library.reindex.return_value = change(updated=[TITLE])
    await cog.pick_up_hand_edits()
    bot.library.reindex.assert_called_once_with()
    bot.records.audit.assert_called_once_with("update", actor=WATCHER, actor_id=None, title=TITLE, file="tidewell.txt",
                                              detail="directory poll")


@pytest.mark.parametrize("command", [StoryAdmin.add, StoryAdmin.remove, StoryAdmin.reindex, StoryAdmin.feedback, Stories.story],
                         ids=lambda command: command.qualified_name)
async def test_every_moderator_command_is_hidden_from_members_and_checks_again_itself(command):
    hidden = command.default_permissions or command.parent.default_permissions
    assert hidden == MODERATORS
    member, moderator = fake_interaction(), fake_interaction()
    member.permissions, moderator.permissions = discord.Permissions(send_messages=True), discord.Permissions(manage_messages=True)
    assert command.checks and all([await maybe_coroutine(check, moderator) for check in command.checks])
    with pytest.raises(app_commands.MissingPermissions):
        for check in command.checks:
            await maybe_coroutine(check, member)
