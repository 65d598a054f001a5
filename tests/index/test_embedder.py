"""The encoder: its ONNX variants, and an index that always holds one variant's vectors."""

import json

import numpy as np
import onnx
import pytest

import index
from index.embedder import ENCODER_VARIANT, ENCODER_VARIANTS, TorchEmbedder, embedder_for, encoder_identity
from index.settings import DEFAULT_MODEL
from index.store import current_path

SENTENCES = ["Who won the council vote on the rent cap?", "The ferry strike ended after nine days.", "a"]


@pytest.fixture(scope="module")
def other_variant(encoder_dir):
    """The variant not shipped, exported once for this module into the session's encoder folder."""
    other = next(variant for variant in ENCODER_VARIANTS if variant != ENCODER_VARIANT)
    return embedder_for(DEFAULT_MODEL, encoder_dir.parent, encoder_dir, other)


def operators(embedder) -> set[str]:
    return {node.op_type for node in onnx.load(str(embedder.directory / "model.onnx")).graph.node}


def test_each_variant_has_its_own_cache_folder_and_identity(embedder, other_variant):
    assert embedder.directory != other_variant.directory
    assert json.loads((embedder.directory / "encoder.json").read_text())["variant"] == ENCODER_VARIANT
    assert embedder.identity == encoder_identity(DEFAULT_MODEL, ENCODER_VARIANT) != other_variant.identity
    assert embedder.name == other_variant.name == DEFAULT_MODEL


@pytest.mark.slow
def test_the_variants_are_fused_and_int8_is_quantised_per_channel_and_close_to_torch(embedder, other_variant):
    variants = {e.variant: e for e in (embedder, other_variant)}
    assert {"Attention", "SkipLayerNormalization"} <= operators(variants["fused"])  # the optimizer's fused kernels
    assert "MatMulInteger" in operators(variants["int8"]) and "MatMulInteger" not in operators(variants["fused"])
    truth = TorchEmbedder(DEFAULT_MODEL).encode(SENTENCES)
    assert np.min((variants["fused"].encode(SENTENCES) * truth).sum(axis=1)) > 0.9999
    int8 = (variants["int8"].encode(SENTENCES) * truth).sum(axis=1)
    assert np.min(int8) > 0.97 and np.min(int8) < 0.99999  # close, but not the same vectors: hence the identity


def test_an_index_built_with_another_variant_is_rebuilt_not_mixed(stories, tmp_path, embedder, other_variant):
    out = tmp_path / "idx"
    index.build([stories], out, embedder=other_variant)
    with pytest.raises(index.IndexFormatError, match=rf"built with model .*\[{other_variant.variant}\].*rebuild it"):
        index.load(out, embedder=embedder)
    report = index.build([stories], out, embedder=embedder)
    assert (report.changed, report.embedded, report.reused) == (True, 22, 0)
    manifest = json.loads((current_path(out) / "manifest.json").read_text())
    assert manifest["model"] == embedder.identity
    clean = tmp_path / "clean"
    index.build([stories], clean, embedder=embedder)
    rebuilt, fresh = index.load(out, embedder=embedder), index.load(clean, embedder=embedder)
    assert np.array_equal(np.asarray(rebuilt.generation.vectors), np.asarray(fresh.generation.vectors))


def test_the_default_load_and_build_use_the_shipped_variant(stories, tmp_path, encoder_dir):
    out = tmp_path / "idx"
    index.build([stories], out, encoder_dir=encoder_dir)
    kb = index.load(out, encoder_dir=encoder_dir)
    assert kb.embedder.identity == encoder_identity(DEFAULT_MODEL, ENCODER_VARIANT)
    assert json.loads((current_path(out) / "manifest.json").read_text())["model"] == kb.embedder.identity


def test_an_unknown_variant_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not one of"):
        embedder_for(DEFAULT_MODEL, tmp_path, tmp_path, "fp4")
