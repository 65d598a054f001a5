"""Getting the knowledge base ready at start-up: build what changed, then load it once."""

import logging

import index
from index import KnowledgeBase

from .settings import BotSettings

log = logging.getLogger(__name__)


def open_knowledge_base(settings: BotSettings) -> KnowledgeBase:
    """Always build first: the build is incremental, so an unchanged story set embeds nothing.

    Invalid story files are skipped and logged rather than keeping the bot offline.
    """
    report = index.build(
        [settings.stories_dir], settings.index_dir, model=settings.model, encoder_dir=settings.encoder_dir, skip_invalid=True
    )
    log.info("%s", report.summary())
    for problem in report.problems:
        (log.error if problem.fatal else log.warning)("%s", problem)
    return index.load(settings.index_dir, model=settings.model, encoder_dir=settings.encoder_dir)
