"""Generated fictional distractor stories: a large corpus of plausible rivals for routing.

Stories about the same kinds of institutions, events and numbers as real ones (police policy, strikes,
council budgets, hospitals, courts, schools, energy, rates, transport, sport, culture, tech, elections,
weather) make a question's right story compete with hundreds of near neighbours, as it will in a
community that has indexed a few years of news. Everything is seeded, so a run is repeatable; place names are
drawn from syllables and never reuse a word of the stories being evaluated (people and firms come from fixed lists).
"""

import random
import tomllib
from pathlib import Path

TEMPLATES = Path(__file__).with_name("distractor_templates.toml")
IMAGE_CREDIT = "storybot distractor (generated fictional story)"
DEFAULT_SEED = 20261127

PLACE_HEADS = ["Ash", "Bram", "Cold", "Dun", "Elm", "Fair", "Glen", "Hal", "Kirk", "Lang", "Mar", "Nor", "Ox", "Pen", "Rib", "Stan",
               "Thorn", "Wal", "Brook", "Crag", "Hazel", "Lind", "Moss", "Quar", "Sel", "Tarn", "Wes", "Yar", "Bel", "Gar"]
PLACE_TAILS = ["by", "ford", "ham", "ley", "mouth", "stead", "wick", "bury", "field", "haven", "ton", "more", "dale", "cross",
               "bridge", "holm", "worth", "combe", "thorpe", "well"]
COUNTRIES = ["Estmark", "Gallovia", "Rhenmark", "Tessaly", "Orlandia", "Vostria", "Kaldor", "Merania", "Sylvania Nova", "Drossland"]
CURRENCIES = ["crowns", "marks", "florins", "ducats", "thalers"]
FIRST = ["Anna", "Boris", "Clara", "Dmitri", "Elise", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Katya", "Lars", "Maren", "Nils",
         "Olga", "Pavel", "Rosa", "Stefan", "Tilde", "Uwe", "Vera", "Wim", "Yusuf", "Zofia", "Amal", "Bruno", "Chiara", "Dorian"]
LAST = ["Albrecht", "Bergmann", "Castell", "Dunlop", "Ekberg", "Falk", "Gorski", "Holm", "Ivers", "Jansen", "Kovac", "Lindqvist",
        "Moreau", "Novak", "Orsini", "Petrov", "Quist", "Roth", "Sandoval", "Tamm", "Ulrich", "Varga", "Weiss", "Zeller"]
ORG_HEADS = ["Arc", "Brightline", "Cobalt", "Delta", "Everline", "Fulcrum", "Granite", "Helix", "Ironbridge", "Juniper", "Keystone",
             "Lumen", "Meridian", "Northstar", "Orbit", "Pinnacle", "Quarry", "Redwood", "Summit", "Tidal", "Unity", "Vantage"]
ORG_TAILS = ["Group", "Energy", "Networks", "Holdings", "Partners", "Union", "Alliance", "Trust", "Capital", "Systems"]
WORKERS = ["Bus drivers", "Nurses", "Teachers", "Dockworkers", "Rail workers", "Refuse collectors", "Junior doctors", "Postal workers"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
BULLETS = ["•", "-", "*"]
NOISE = ["Sign up to our newsletter!", "Advertisement", "Share this story"]


def _town(rng: random.Random, avoid: set[str]) -> str:
    while True:
        name = rng.choice(PLACE_HEADS) + rng.choice(PLACE_TAILS)
        if name.lower() not in avoid:
            return name


def _slots(rng: random.Random, avoid: set[str]) -> dict[str, str]:
    person = lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}"  # noqa: E731
    town = _town(rng, avoid)
    return {
        "town": town, "town2": _town(rng, avoid | {town.lower()}), "country": rng.choice(COUNTRIES),
        "person": person(), "person2": person(), "person3": person(),
        "org": f"{rng.choice(ORG_HEADS)} {rng.choice(ORG_TAILS)}", "workers": rng.choice(WORKERS),
        "small": str(rng.randint(2, 12)), "mid": str(rng.randint(40, 950)), "big": f"{rng.randint(2, 400) * 1000:,}",
        "pct": str(rng.randint(3, 78)), "rate": f"{rng.randint(10, 90) / 10:.1f}",
        "money": f"{rng.randint(2, 480)} million {rng.choice(CURRENCIES)}", "currency": rng.choice(CURRENCIES),
        "month": rng.choice(MONTHS), "month2": rng.choice(MONTHS), "year": str(rng.randint(2019, 2027)),
    }


def distractor_text(rng: random.Random, kind: dict, avoid: set[str]) -> str:
    """One story file in the scraped text format, from one kind's templates."""
    slots = _slots(rng, avoid)
    fill = lambda template: template.format(**slots)  # noqa: E731
    facts = sorted(rng.sample(range(len(kind["facts"])), rng.randint(4, len(kind["facts"]))))
    bullet = rng.choice(BULLETS)
    lines = [fill(rng.choice(kind["titles"])), "",
             f"Last updated {rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2023, 2026)}", f"Image credit: {IMAGE_CREDIT}", ""]
    lines += [f"{bullet} {fill(kind['facts'][n])}[{rng.randint(1, 4)}]" for n in facts]
    for label, text in kind["narratives"]:
        lines += ["", label, "", text]
    lines += ["", "Articles on this story", "", rng.choice(NOISE)]
    return "\n".join(lines) + "\n"


def write_distractors(
    folder: Path, count: int, *, seed: int = DEFAULT_SEED, avoid: set[str] = frozenset(), number_repeats: bool = False,
) -> list[Path]:
    """Write `count` distractor story files into `folder`, with distinct titles; `avoid` holds lower-case
    words (the evaluated stories' names) that no generated place may be called.

    The templates hold a few tens of thousands of distinct titles; beyond that (the benchmark's corpora of up to
    a million claims), `number_repeats` keeps a repeated title by numbering it ("… (2)") instead of drawing again.
    """
    kinds = tomllib.loads(TEMPLATES.read_text(encoding="utf-8"))["kind"]
    rng = random.Random(seed)
    avoid = set(avoid)
    folder.mkdir(parents=True, exist_ok=True)
    titles: dict[str, int] = {}
    paths = []
    while len(paths) < count:
        text = distractor_text(rng, rng.choice(kinds), avoid)
        first, rest = text.split("\n", 1)
        title = first.casefold()
        if title in titles and not number_repeats:
            continue
        titles[title] = titles.get(title, 0) + 1
        if titles[title] > 1:
            text = f"{first} ({titles[title]})\n{rest}"
        path = folder / f"distractor_{len(paths):05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
