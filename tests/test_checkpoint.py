"""Opening a model directory is safe: nothing is unpickled, and a hostile model.json is refused in one line,
fast, before anything is allocated."""
import json
import resource
import shutil
import time

import pytest

from molvae.model.checkpoint import ModelError, load_model


def _with_config(tiny_model, tmp_path, **changes):
    d = tmp_path / "hostile"
    shutil.copytree(tiny_model / "model", d)
    meta = json.loads((d / "model.json").read_text())
    meta["config"].update(changes)
    if "vocab_size" in changes:  # keep the vocabulary consistent so the sizes are what is checked
        extra = [f"[X{i}]" for i in range(changes["vocab_size"] - len(meta["vocab"]["tokens"]))]
        meta["vocab"]["tokens"] += extra
    (d / "model.json").write_text(json.dumps(meta))
    return d


@pytest.mark.parametrize("changes,message", [
    (dict(dec_hidden=16000, dec_layers=8), "dec_hidden 16000, above the limit"),
    (dict(dec_hidden=1_000_000), "dec_hidden must be a positive whole number"),
    (dict(dec_hidden=2048), "has shape"),  # within the limits: the weights header says otherwise
    (dict(dec_layers=4), "weights do not match the config"),
    (dict(dec_hidden=4096, dec_layers=8, latent_dim=2048, enc_hidden=4096, enc_layers=8, emb_dim=4096,
          vocab_size=9000), "parameters, above the limit"),
])
def test_a_hostile_model_json_is_refused_fast_without_allocating(tiny_model, tmp_path, changes, message):
    d = _with_config(tiny_model, tmp_path, **changes)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.time()
    with pytest.raises(ModelError, match=message) as info:
        load_model(d)
    assert time.time() - t < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 200_000  # KiB: nothing big was built
    assert "\n" not in str(info.value)


def test_a_huge_model_json_is_refused_before_it_is_parsed(tiny_model, tmp_path):
    d = tmp_path / "huge"
    shutil.copytree(tiny_model / "model", d)
    (d / "model.json").write_text(" " * (17 << 20) + "{}")
    with pytest.raises(ModelError, match="larger than 16 MB"):
        load_model(d)


def test_the_tiny_model_still_loads(tiny_model):
    model, vocab, meta = load_model(tiny_model / "model")
    assert model.cfg.vocab_size == len(vocab) and meta["format"] == "molvae-model"
