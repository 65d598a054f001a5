"""The console chat: the bot's answers on a terminal, for trying it without a Discord token."""

from typing import TextIO

from index import KnowledgeBase, QuestionError
from index.terminal import format_answer, format_catalog, format_story

from .title_search import find_story

GREETING = (
    "storybot console: type a question, /story TITLE, /stories, or /quit (Ctrl-D also quits). "
    "To run on Discord instead, set DISCORD_TOKEN in .env (see .env.example)."
)


def run_console(knowledge_base: KnowledgeBase, stdin: TextIO, stdout: TextIO) -> None:
    """Answer one line at a time until EOF or /quit; the same answers as on Discord, as text."""
    interactive = stdin.isatty()
    print(GREETING, file=stdout, flush=True)
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:  # EOF
            break
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        print(reply_to(knowledge_base, line), file=stdout, end="\n\n", flush=True)


def reply_to(knowledge_base: KnowledgeBase, line: str) -> str:
    """One console line in, the text to print out."""
    command, _, argument = line.partition(" ")
    if command == "/stories":
        return format_catalog(knowledge_base.catalog())
    if command == "/story":
        if not argument.strip():
            return "Usage: /story TITLE (type /stories to see the titles)"
        story = find_story(knowledge_base, argument, guess=True)
        if story is None:
            return f"I don't know a story called “{argument.strip()}”. Type /stories to see the titles."
        return format_story(story, full_card=True)
    if command.startswith("/"):
        return f"Unknown command {command}. Try /story TITLE, /stories or /quit — or just type a question."
    try:
        return format_answer(knowledge_base.ask(line))
    except QuestionError as error:
        return str(error)
