"""`python -m index train-encoder`: fine-tune the whole bi-encoder on training/ only, with a fixed seed. An
experiment of issue #13, not part of the product: the README (Answer quality, "Tried and not kept") gives what
it did on the dev stories.

Each answerable training question is paired with its labelled bullet (the positive) and one other bullet of the
same story (a hard negative: same names, same topic); MultipleNegativesRankingLoss (sentence-transformers)
makes the question nearer its bullet than that negative and than every other text in its batch. Every layer
is trained (the token embeddings too) for EPOCHS epochs (or --epochs) at LEARNING_RATE, batches of BATCH. The model is saved as
a sentence-transformers folder, which `STORYBOT_MODEL` can name: `python -m index train --out FILE` then refits
the answer models for it, and `python -m index evaluate --split dev --judgement FILE` measures it.
"""

import random
import time
from pathlib import Path

from .evaluation.data import read_labelled_set
from .reader_training import read_stories

SEED = 1127
EPOCHS = 3  # chosen on the dev stories between 1 and 3 (README, Answer quality)
BATCH = 32
LEARNING_RATE = 2e-5


def training_triples(training_dir: Path, rng: random.Random) -> list[tuple[str, str, str]]:
    """(question, its labelled bullet, another bullet of its story) for every answerable training question."""
    bullets = read_stories(training_dir / "stories")
    triples = []
    for question in read_labelled_set(training_dir).questions:
        if question.kind != "answerable":
            continue
        facts = bullets[question.stories[0]]
        others = [text for number, text in enumerate(facts, 1) if number not in question.facts]
        if others:
            triples.append((question.text, facts[question.facts[0] - 1], rng.choice(others)))
    return triples


def train_encoder(training_dir: Path, base_model: str, out: Path, epochs: int = EPOCHS, log=print) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer, losses

    started = time.perf_counter()
    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    triples = training_triples(training_dir, rng)
    model = SentenceTransformer(base_model, device="cpu", local_files_only=True)
    loss = losses.MultipleNegativesRankingLoss(model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    model.train()
    for epoch in range(epochs):
        rng.shuffle(triples)
        for start in range(0, len(triples), BATCH):
            batch = triples[start:start + BATCH]
            features = [model.preprocess([triple[column] for triple in batch]) for column in range(3)]
            value = loss(features, None)
            value.backward()
            optimiser.step()
            optimiser.zero_grad()
            if start // BATCH % 20 == 0:
                log(f"epoch {epoch + 1}, batch {start // BATCH + 1} of {-(-len(triples) // BATCH)}: loss {value.item():.3f} "
                    f"({time.perf_counter() - started:.0f} s)")
    model.eval()
    model.save(str(out))
    log(f"wrote {out}: {len(triples)} training triples, {epochs} epoch(s), in {time.perf_counter() - started:.0f} s")
    return out
