"""Getting the story library ready at start-up: build what changed, then load it once."""

import logging

from index import Library

from .settings import BotSettings

log = logging.getLogger(__name__)


def open_library(settings: BotSettings) -> Library:
    """Always build first: the build is incremental, so an unchanged story set embeds nothing.

    Invalid story files are skipped and logged rather than keeping the bot offline.
    """
    library = Library(settings.stories_dir, settings.index_dir, model=settings.model, encoder_dir=settings.encoder_dir)
    report = library.open()
    log.info("%s", report.summary())
    for problem in report.problems:
        (log.error if problem.fatal else log.warning)("%s", problem)
    return library
