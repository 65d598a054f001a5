"""What changed between two versions of one story: bullets added, removed or reworded, narratives changed,
new sources and the new "Last updated" date. Pure functions over `Story` models; no Discord in here.

    changes = index.story_changes(before, after)
    changes.reworded[0].before.text, changes.reworded[0].after.text

Bullets are compared by their text (as written, citations aside): a bullet whose text is in both versions is
unchanged wherever it moved. A removed bullet and an added one whose texts are alike (`REWORDED_SIMILARITY`)
are paired as one bullet reworded, the most alike pairs first; the rest are added or removed. A citation-only
change is not a reworded bullet: the sources it brings in are listed as new sources.
"""

from datetime import date

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz, process, utils

from .models import Fact, Source, Story, title_key

# rapidfuzz's `fuzz.ratio` (0-100, normalised Levenshtein) over lower-cased, punctuation-free text. A fixed choice
# above a measured floor: over the 1,462 pairs of different bullets within each evaluation story (tests/eval/stories)
# the highest scores 52 and the median 41 (tests/index/test_changes.py checks that none reaches 60), while a
# bullet with a number or a name changed scores 85 or more, one with four of its thirteen words changed about 70.
REWORDED_SIMILARITY = 60.0


class RewordedBullet(BaseModel):
    model_config = ConfigDict(frozen=True)

    before: Fact
    after: Fact
    similarity: float  # `fuzz.ratio` of the two texts, 0-100


class ChangedNarrative(BaseModel):
    """A narrative whose text changed (`before` and `after`), that is new (`before` None) or removed (`after` None)."""

    model_config = ConfigDict(frozen=True)

    label: str  # as the newer version writes it (or the older, for a removed narrative)
    before: str | None
    after: str | None


class StoryChanges(BaseModel):
    """From `before` to `after` (two versions of one story), each list in the order of the version it comes from."""

    model_config = ConfigDict(frozen=True)

    before: Story
    after: Story
    added: list[Fact]  # in `after`'s order
    removed: list[Fact]  # in `before`'s order
    reworded: list[RewordedBullet]  # in `after`'s order
    narratives: list[ChangedNarrative]  # `after`'s order, then the removed ones in `before`'s order
    new_sources: list[Source]  # sources `after` lists that `before` did not (same URL, or same outlet and headline)

    @property
    def updated(self) -> date | None:
        return self.after.updated

    @property
    def previously_updated(self) -> date | None:
        return self.before.updated

    @property
    def date_changed(self) -> bool:
        return self.before.updated != self.after.updated

    @property
    def count(self) -> int:
        """How many changes are listed (the date aside)."""
        return len(self.added) + len(self.removed) + len(self.reworded) + len(self.narratives) + len(self.new_sources)

    @property
    def empty(self) -> bool:
        """Nothing listed changed: only the date, the image credit, citations or a source's details."""
        return self.count == 0


def story_changes(before: Story, after: Story) -> StoryChanges:
    """What changed from `before` to `after`, two versions of the same story (the same id)."""
    if before.id != after.id:
        raise ValueError(f"two different stories: {before.title!r} and {after.title!r}")
    removed, added = _unmatched(before.facts, after.facts), _unmatched(after.facts, before.facts)
    reworded = _pair_reworded(removed, added)
    paired_before = {pair.before.index for pair in reworded}
    paired_after = {pair.after.index for pair in reworded}
    return StoryChanges(
        before=before,
        after=after,
        added=[fact for fact in added if fact.index not in paired_after],
        removed=[fact for fact in removed if fact.index not in paired_before],
        reworded=sorted(reworded, key=lambda pair: pair.after.index),
        narratives=_changed_narratives(before, after),
        new_sources=_new_sources(before.sources, after.sources),
    )


def _unmatched(facts: list[Fact], others: list[Fact]) -> list[Fact]:
    """The facts whose text is not among `others`' (counted: a bullet written twice must be there twice)."""
    remaining: dict[str, int] = {}
    for fact in others:
        remaining[fact.text] = remaining.get(fact.text, 0) + 1
    unmatched = []
    for fact in facts:
        if remaining.get(fact.text, 0) > 0:
            remaining[fact.text] -= 1
        else:
            unmatched.append(fact)
    return unmatched


def _pair_reworded(removed: list[Fact], added: list[Fact]) -> list[RewordedBullet]:
    """Greedy: the most alike (removed, added) pair first, each bullet in at most one pair."""
    if not removed or not added:
        return []
    scores = process.cdist([f.text for f in removed], [f.text for f in added], scorer=fuzz.ratio,
                           processor=utils.default_process)
    candidates = sorted(
        ((float(scores[i][j]), i, j) for i in range(len(removed)) for j in range(len(added))
         if scores[i][j] >= REWORDED_SIMILARITY),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    used_before, used_after, pairs = set(), set(), []
    for score, i, j in candidates:
        if i in used_before or j in used_after:
            continue
        used_before.add(i)
        used_after.add(j)
        pairs.append(RewordedBullet(before=removed[i], after=added[j], similarity=round(score, 1)))
    return pairs


def _changed_narratives(before: Story, after: Story) -> list[ChangedNarrative]:
    """Narratives are matched by label (as titles are compared: case, spacing and invisible characters aside)."""
    old = {title_key(n.label): n for n in before.narratives}
    new_keys = {title_key(n.label) for n in after.narratives}
    changes = []
    for narrative in after.narratives:
        previous = old.get(title_key(narrative.label))
        if previous is None:
            changes.append(ChangedNarrative(label=narrative.label, before=None, after=narrative.text))
        elif previous.text != narrative.text:
            changes.append(ChangedNarrative(label=narrative.label, before=previous.text, after=narrative.text))
    changes += [ChangedNarrative(label=n.label, before=n.text, after=None)
                for n in before.narratives if title_key(n.label) not in new_keys]
    return changes


def _source_key(source: Source) -> tuple:
    if source.url:
        return ("url", source.url.strip())
    return ("text", title_key(source.outlet or ""), title_key(source.headline or ""))


def _new_sources(before: list[Source], after: list[Source]) -> list[Source]:
    known = {_source_key(source) for source in before}
    return [source for source in after if _source_key(source) not in known]
