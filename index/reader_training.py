"""`python -m index train-reader`: fine-tune the reader (reader.py, a small cross-encoder) on training/ only, with a
fixed seed, write index/reader.safetensors, and measure it alone on the evaluation's dev stories.

The reader is the bundled all-MiniLM-L6-v2 reading "[CLS] question [SEP] title: bullet [SEP]" (`candidate_text`: the
bullet under its story's title; at most MAX_TOKENS tokens) and scoring it with a linear head over the mean of its
token states.
Each training group is one question with some bullets of one story and the *null candidate* (the question
with an empty bullet); a softmax over the group is trained to put its mass on the bullets that answer, or on
the null candidate when none does:

- an answerable question with its labelled story: the answering bullets, the HARD_NEGATIVES bullets the
  bi-encoder finds closest to the question among the others and RANDOM_NEGATIVES chosen at random;
- an answerable question with another story of the same fictional country (hard: same names and topics),
  for WRONG_STORY_SHARE of them: null;
- a question on the story's topic that no bullet answers (`unanswerable`, `false_premise`): null;
- an off-topic question with a random story: null.

Questions about the sides and about two stories are not used (the sides branch answers them).
The token embeddings are frozen (the bundled ones, not saved again); the LAYERS layers and the head are fitted,
the head at HEAD_LEARNING_RATE, the layers at BODY_LEARNING_RATE, with a linear warm-up and decay, for EPOCHS
passes, in bfloat16 autocast (the weights and optimiser in fp32; a step costs a third of fp32's on this machine's AMD EPYC, and the
reader trained so read as the fp32 one on dev: docs/history.md); 34 minutes for 3 on 2 cores, 10,427 groups.
Writes the fitted weights (fp16 safetensors,
21 MB) and prints its time, then `dev_report`: on the dev stories, given each question's labelled story, how
often the reader's best bullet is a right one, and how often it prefers the null candidate. An earlier reader
(3 layers, the last one trained, on 3,752 groups) read too weakly to help (docs/history.md);
`python -m index train` must run after this, because the answer models are fitted to the reader's scores.
"""

import random
import re
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from .embedder import Embedder, bundled_model_path
from .evaluation.data import read_labelled_set
from .parser import parse_file
from .reader import MAX_TOKENS, NULL, candidate_text

LAYERS = 6  # all of MiniLM's
TRAINED_LAYERS = 6  # the last layers, fine-tuned and saved; any below are the bundled model's, frozen
SEED = 1127
EPOCHS = 3  # the third was kept on dev (docs/history.md): as many right answers net of wrong ones, fewer wrong
GROUP_BATCH = 8  # questions per optimiser step
HARD_NEGATIVES = 2  # per answerable question: the bi-encoder's closest wrong bullets
RANDOM_NEGATIVES = 1  # and other wrong bullets at random
WRONG_STORY_SHARE = 0.25
UNANSWERED_BULLETS = 3  # bullets shown with a question no bullet answers
BODY_LEARNING_RATE = 5e-5
HEAD_LEARNING_RATE = 2e-3
WARMUP_SHARE = 0.1


def torch_reader(weights: Path | None = None):
    """(model, tokenizer): the bundled model cut to LAYERS layers with a fresh head, or with the fine-tuned `weights`
    loaded over it. model(input_ids, attention_mask, token_type_ids) -> one score per (question, candidate text) pair."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = bundled_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    bert = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager")
    bert.encoder.layer = bert.encoder.layer[:LAYERS]
    bert.config.num_hidden_layers = LAYERS
    bert.pooler = None
    bert.embeddings.requires_grad_(False)
    for layer in bert.encoder.layer[:LAYERS - TRAINED_LAYERS]:
        layer.requires_grad_(False)

    class Reader(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert
            self.head = torch.nn.Linear(bert.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled).squeeze(-1)

    model = Reader()
    if weights is not None:
        from safetensors.torch import load_file

        state = {name: tensor.float() for name, tensor in load_file(str(weights)).items()}
        missing = [name for name, p in model.named_parameters() if p.requires_grad and name not in state]
        if missing:
            raise ValueError(f"{weights} lacks {len(missing)} reader weights (e.g. {missing[0]})")
        model.load_state_dict(state, strict=False)
    return model.eval(), tokenizer


def read_stories(stories_dir: Path) -> dict[str, list[str]]:
    """{title: bullet texts, in order} of every story file in `stories_dir`."""
    stories = {}
    for path in sorted(stories_dir.iterdir()):
        result = parse_file(path)
        if result.story is None:
            raise ValueError(f"{path}: does not parse ({'; '.join(str(p) for p in result.problems)})")
        stories[result.story.title] = [fact.text for fact in result.story.facts]
    return stories


def country_of(path_name: str) -> str:
    """Stories are numbered by batch (01-46, 101-130, 201-225, ...): one batch is one fictional country."""
    number = int(re.match(r"\d+", path_name).group())
    return str(number // 100)


def training_groups(training_dir: Path, embedder: Embedder, rng: random.Random) -> list[tuple[str, list[str], list[int]]]:
    """(question, candidates (each a bullet as the reader reads it, `candidate_text`), indices of the right ones; []
    means the null candidate) for every group."""
    stories = read_stories(training_dir / "stories")
    titles = list(stories)
    batch_of = {}
    for path in sorted((training_dir / "stories").iterdir()):
        story = parse_file(path).story
        batch_of[story.title] = country_of(path.name)
    same_batch = defaultdict(list)
    for title in titles:
        same_batch[batch_of[title]].append(title)
    labelled = read_labelled_set(training_dir)
    answerable = [q for q in labelled.questions if q.kind == "answerable"]
    question_vectors = embedder.encode([q.text for q in answerable])
    bullet_vectors = {title: embedder.encode(bullets) for title, bullets in stories.items()}
    groups = []
    for q, vector in zip(answerable, question_vectors, strict=True):
        title = q.stories[0]
        bullets = stories[title]
        right = [f - 1 for f in q.facts if 0 < f <= len(bullets)]
        wrong = [i for i in np.argsort(-(bullet_vectors[title] @ vector)).tolist() if i not in right]
        hard = wrong[:HARD_NEGATIVES]
        rest = [i for i in wrong if i not in hard]
        chosen = right + hard + rng.sample(rest, min(RANDOM_NEGATIVES, len(rest)))
        rng.shuffle(chosen)
        groups.append((q.text, [candidate_text(title, bullets[i]) for i in chosen], [n for n, i in enumerate(chosen) if i in right]))
        if rng.random() < WRONG_STORY_SHARE:
            other = rng.choice([t for t in same_batch[batch_of[title]] if t != title])
            groups.append((q.text, _some(other, stories[other], rng), []))
    for q in labelled.questions:
        if q.kind in ("unanswerable", "false_premise"):
            groups.append((q.text, _some(q.stories[0], stories[q.stories[0]], rng), []))
        elif q.kind == "offtopic":
            title = rng.choice(titles)
            groups.append((q.text, _some(title, stories[title], rng), []))
    rng.shuffle(groups)
    return groups


def _some(title: str, bullets: list[str], rng: random.Random) -> list[str]:
    return [candidate_text(title, bullet) for bullet in rng.sample(bullets, min(UNANSWERED_BULLETS, len(bullets)))]


def train_reader(training_dir: Path, embedder: Embedder, out: Path, log=print, epochs: int = EPOCHS) -> None:
    import torch

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, not {epochs}")
    started = time.perf_counter()
    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    groups = training_groups(training_dir, embedder, rng)
    pairs = sum(len(bullets) + 1 for _, bullets, _ in groups)
    log(f"{len(groups)} groups, {pairs} pairs per epoch ({time.perf_counter() - started:.0f} s)")
    model, tokenizer = torch_reader()
    model.train()
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    body = [p for n, p in model.named_parameters() if not n.startswith("head.") and p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": body, "lr": BODY_LEARNING_RATE}, {"params": head, "lr": HEAD_LEARNING_RATE}],
                                  weight_decay=0.01)
    steps = epochs * ((len(groups) + GROUP_BATCH - 1) // GROUP_BATCH)
    warmup = max(1, int(WARMUP_SHARE * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))))
    step, recent = 0, []
    for epoch in range(epochs):
        order = list(range(len(groups)))
        rng.shuffle(order)
        for start in range(0, len(order), GROUP_BATCH):
            batch = [groups[i] for i in order[start:start + GROUP_BATCH]]
            questions, texts, sizes = [], [], []
            for question, candidates, _ in batch:
                questions += [question] * (len(candidates) + 1)
                texts += [*candidates, NULL]  # the null candidate last
                sizes.append(len(candidates) + 1)
            encoded = tokenizer(questions, texts, truncation="longest_first", max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            with torch.autocast("cpu", dtype=torch.bfloat16):  # the CPU's bf16 units (avx512_bf16): a step costs a third of fp32's
                scores = model(encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"]).float()
            loss = 0.0
            for (_, candidates, right), group in zip(batch, torch.split(scores, sizes), strict=True):
                log_p = torch.log_softmax(group, 0)
                loss = loss - torch.logsumexp(log_p[right if right else [len(candidates)]], 0)
            loss = loss / len(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            recent.append(float(loss.detach()))
            if step % 50 == 0:
                log(f"epoch {epoch + 1} step {step}/{steps}: loss {np.mean(recent):.3f} ({time.perf_counter() - started:.0f} s)")
                recent = []
        if epoch + 1 < epochs:  # a checkpoint after each epoch but the last, to compare
            _save(model, out.with_suffix(f".epoch{epoch + 1}.safetensors"), training_dir)
    _save(model, out, training_dir)
    log(f"wrote {out} ({out.stat().st_size:,} bytes) in {time.perf_counter() - started:.0f} s")


def _save(model, out: Path, training_dir: Path) -> None:
    import torch
    from safetensors.torch import save_file

    state = {name: tensor.detach().to(torch.float16).contiguous() for name, tensor in model.named_parameters() if tensor.requires_grad}
    save_file(state, str(out), metadata={"layers": str(LAYERS), "seed": str(SEED), "trained_on": str(training_dir)})


def reader_scores(model, tokenizer, question: str, title: str, bullets: list[str]) -> np.ndarray:
    """Each bullet's (of the story `title`) score minus the null candidate's (> 0: reads as a better answer than none)."""
    import torch

    texts = [candidate_text(title, bullet) for bullet in bullets]
    encoded = tokenizer([question] * (len(texts) + 1), [*texts, NULL], truncation="longest_first", max_length=MAX_TOKENS,
                        padding=True, return_tensors="pt")
    with torch.no_grad():
        raw = model(encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"]).numpy()
    return raw[:-1] - raw[-1]


def dev_report(eval_dir: Path, seeds_dir: Path, weights: Path) -> str:
    """On the evaluation's *dev* stories only, each question read against its labelled story's bullets: how often
    the reader's best bullet answers it, and how often it prefers the null candidate, for questions a bullet
    answers and for questions none does."""
    model, tokenizer = torch_reader(weights)
    labelled = read_labelled_set(eval_dir, seeds_dir)
    stories = read_stories(eval_dir / "stories")
    first, answered_null, unanswered_null = [], [], []
    for q in labelled.questions:
        if labelled.split_of(q) != "dev" or len(q.stories) != 1 or q.stories[0] not in stories:
            continue
        scores = reader_scores(model, tokenizer, q.text, q.stories[0], stories[q.stories[0]])
        if q.kind == "answerable":
            first.append(int(np.argmax(scores)) + 1 in q.facts)
            answered_null.append(scores.max() <= 0)
        elif q.kind in ("unanswerable", "false_premise"):
            unanswered_null.append(scores.max() <= 0)
    return (f"dev, given the labelled story: reader's best bullet right {np.mean(first):.3f} of {len(first)} answerable; "
            f"null preferred for {np.mean(answered_null):.3f} of them and for {np.mean(unanswered_null):.3f} of {len(unanswered_null)} "
            f"that no bullet answers")
