"""The reader: a small cross-encoder that reads a question together with one bullet (under its story's title:
`candidate_text`) and scores how well that bullet answers it, against the *null candidate* (the question with no
bullet at all): a score above 0 reads as a better answer than none.

It is the bundled MiniLM's six layers with a linear head over the mean of their token states, fine-tuned by
`python -m index train-reader` on training/ only (reader_training.py); its weights ship in reader.safetensors
beside this file (the token embeddings are the bundled model's and are not repeated there). At first use it is
exported to ONNX, fused as the encoder is (embedder.py), and cached beside the encoder's export
(`<index>/encoder/reader-<digest>-<variant>/`), so answering never imports torch.
"""

import functools
import hashlib
import json
import logging
import threading
import warnings
from pathlib import Path

import numpy as np

from .files import folder_written_whole

log = logging.getLogger(__name__)

WEIGHTS_FILE = Path(__file__).with_name("reader.safetensors")
MAX_TOKENS = 96  # question and candidate text (title: bullet) together; the longer one is cut first
FILES = ("reader.onnx", "tokenizer.json", "reader.json")
# As the encoder's variants (embedder.ENCODER_VARIANTS): "fused" fp32, or "int8" with its weights quantised per channel.
# int8 halves a read, but with the answer models refitted for it eight fewer dev questions got their answer (docs/history.md),
# so the shipped reader is fp32.
READER_VARIANT = "fused"
NULL = ""  # the null candidate's text: the question read with no bullet at all
Readings = dict[tuple[str, str], float]  # (question, candidate_text or NULL) -> the reader's own reading of the pair (`Reader.read`)


def candidate_text(title: str, bullet: str) -> str:
    """What the reader reads beside the question: the bullet under its story's title, which says who "the force" or
    "it" in the bullet is (the null candidate is the question alone)."""
    return f"{title}: {bullet}"


@functools.cache
def weights_digest(weights: Path = WEIGHTS_FILE) -> str:
    """The first 12 hex digits of the weights' sha256 (35 ms for 21 MB: once per process, as embedder.model_revision)."""
    return hashlib.sha256(weights.read_bytes()).hexdigest()[:12]


class Reader:
    """The exported reader on ONNX Runtime; safe to call from several threads at once."""

    def __init__(self, directory: Path, weights: Path = WEIGHTS_FILE):
        import onnxruntime
        from tokenizers import Tokenizer

        config = json.loads((directory / "reader.json").read_text(encoding="utf-8"))
        if config.get("weights") != weights_digest(weights) or config.get("variant") != READER_VARIANT:
            raise ValueError(f"{directory} holds a reader of weights {config.get('weights')!r} ({config.get('variant')}), "
                             f"not {weights_digest(weights)!r} ({READER_VARIANT})")
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
        tokenizer.enable_padding(pad_id=int(config["pad_id"]), pad_token=config["pad_token"])
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # the tokenizer's padding and truncation settings are shared state
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(directory / "reader.onnx"), options, providers=["CPUExecutionProvider"])

    def scores(self, question: str, title: str, bullets: list[str], readings: Readings | None = None) -> np.ndarray:
        """Each bullet's (of the story `title`) reading minus the null candidate's, in the order given: what the answer
        models read.

        `readings` keeps the pairs read for this question and is read first, so that a question asked twice (a
        follow-up, of its story and of the whole index) reads the question alone, and a bullet both pick, once."""
        readings = {} if readings is None else readings
        texts = [candidate_text(title, bullet) for bullet in bullets]
        unread = list(dict.fromkeys(text for text in texts if (question, text) not in readings))
        if unread:
            readings.update(zip([(question, text) for text in unread], self.read(question, unread).tolist(), strict=True))
        if (question, NULL) not in readings:
            # The null candidate is read on its own: padded to a bullet's length it would cost as much as one.
            readings[question, NULL] = float(self.read(question, [NULL])[0])
        return np.array([readings[question, text] - readings[question, NULL] for text in texts])

    def read(self, question: str, texts: list[str]) -> np.ndarray:
        """Each (question, candidate_text or NULL) pair's own score, not yet against the null candidate."""
        with self._lock:
            encodings = self._tokenizer.encode_batch([(question, text) for text in texts])
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return self._session.run(None, feed)[0].astype(np.float32)


def reader_folder(encoder_dir: Path, weights: Path = WEIGHTS_FILE) -> Path:
    return encoder_dir / f"reader-{weights_digest(weights)}-{READER_VARIANT}"


@functools.cache
def shared_reader(encoder_dir: Path, weights: Path = WEIGHTS_FILE) -> Reader:
    """One loaded reader per process and weights, exported into `encoder_dir` first if it is not there yet."""
    folder = reader_folder(encoder_dir, weights)
    if all((folder / name).is_file() for name in FILES):
        try:
            return Reader(folder, weights)
        except Exception as exc:  # a damaged cache is exported again, never fatal
            log.warning("cached reader at %s unusable (%s); exporting it again", folder, exc)
    export_reader(folder, weights)
    return Reader(folder, weights)


def export_reader(directory: Path, weights: Path = WEIGHTS_FILE) -> None:
    """Export the fine-tuned reader to `directory`, atomically: traced with eager attention, then fused."""
    import torch

    from .embedder import optimise_export
    from .reader_training import torch_reader

    model, tokenizer = torch_reader(weights)
    with folder_written_whole(directory) as scratch:
        sample = tokenizer(["a question", "another"], ["a bullet", ""], return_tensors="pt", padding=True)
        axes = {0: "pairs", 1: "tokens"}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's advice is for other models' control flow, not BERT's
            torch.onnx.export(
                model, (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]), str(scratch / "exported.onnx"),
                input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["score"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "score": {0: "pairs"}},
                opset_version=17, dynamo=False,
            )
        optimise_export(scratch / "exported.onnx", scratch / "reader.onnx", READER_VARIANT, model.bert.config)
        (scratch / "exported.onnx").unlink()
        tokenizer.backend_tokenizer.save(str(scratch / "tokenizer.json"))
        (scratch / "reader.json").write_text(json.dumps({
            "weights": weights_digest(weights), "variant": READER_VARIANT,
            "pad_id": int(tokenizer.pad_token_id or 0), "pad_token": tokenizer.pad_token or "[PAD]",
        }, indent=2), encoding="utf-8")
