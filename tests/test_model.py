"""Model variants overfit two sentences; save/load round trip; refusing code in weights."""
import json
import os
import pickle

import pytest
import torch

from tagger.models.crf import constrained_argmax
from tagger.models.layers import reverse_index
from tagger.models.tagger import Tagger, TaggerConfig, TaggerModel
from tagger.models.saving import resolve_device
from tagger.training.tagger import TrainConfig, train
from tagger.core import Sentence, Span, TaggerError

S1 = Sentence("김철수는 서울에 산다.", [Span(0, 3, "PS"), Span(5, 7, "LC")])
S2 = Sentence("삼성전자가 2020년에 왔다", [Span(0, 4, "OG"), Span(6, 11, "DT")])
TINY = dict(hidden_size=32, embedding_dim=16, dropout=0.0, unk_dropout=0.0, char_hidden=16, char_dim=8, pos_dim=8, feat_dim=8)


def _fit(tokenizer="char", **kw):
    cfg = TaggerConfig(**{**TINY, **kw})
    tc = TrainConfig(epochs=80, patience=80, lr=1e-2, batch_size=2, seed=3, device="cpu")
    return train([S1, S2], [S1, S2], tokenizer=tokenizer, model_config=cfg, train_config=tc)


@pytest.mark.parametrize("use_crf", [False, True], ids=["softmax", "crf"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_every_variant_overfits_two_sentences(cell, use_crf):
    model = _fit(rnn_type=cell, use_crf=use_crf)
    assert model.meta["history"][-1]["loss"] < model.meta["history"][0]["loss"] / 5
    for s, r in zip([S1, S2], model.predict([S1.text, S2.text])):
        assert [(e["start"], e["end"], e["label"]) for e in r["entities"]] == \
            [(sp.start, sp.end, sp.label) for sp in s.spans]


def test_eojeol_with_char_encoder_and_layer_norm_overfits():
    model = _fit("eojeol", char_encoder="lstm", layer_norm=True, num_layers=1, bidirectional=False)
    r = model.predict([S1.text])[0]
    # eojeol units: the entity covers the whole word
    assert [(e["text"], e["label"]) for e in r["entities"]] == [("김철수는", "PS"), ("서울에", "LC")]


def test_save_load_round_trip_predicts_the_same(tmp_path):
    model = _fit(use_crf=True)
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["format_version"] == 1 and meta["tokenizer"]["name"] == "char"
    assert meta["tagger_config"]["use_crf"] is True and meta["history"]
    loaded = TaggerModel.load(tmp_path / "m")
    texts = [S1.text, S2.text, "", "처음 보는 문장입니다"]
    assert loaded.predict(texts) == model.predict(texts)


def test_crafted_pickle_is_refused_and_never_runs(tmp_path):
    model = _fit()
    model.save(tmp_path / "m")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with open(tmp_path / "m" / "weights.pt", "wb") as f:
        pickle.dump({"x": Evil()}, f)
    with pytest.raises(TaggerError, match="checksum|refused"):
        TaggerModel.load(tmp_path / "m")
    # even with a matching checksum the pickle is refused, and nothing ran
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    import hashlib
    meta["weights"]["sha256"] = hashlib.sha256((tmp_path / "m" / "weights.pt").read_bytes()).hexdigest()
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(TaggerError, match="refused"):
        TaggerModel.load(tmp_path / "m")
    assert not marker.exists()


def test_missing_or_partial_model_is_a_clear_error(tmp_path):
    with pytest.raises(TaggerError, match="not a model directory"):
        TaggerModel.load(tmp_path)
    (tmp_path / "weights.pt").write_bytes(b"half")
    with pytest.raises(TaggerError, match="no model.json"):
        TaggerModel.load(tmp_path)


def test_reverse_index_reverses_within_length():
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=torch.bool)
    assert reverse_index(mask).tolist() == [[2, 1, 0, 3], [3, 2, 1, 0], [0, 1, 2, 3]]


def test_padding_does_not_change_outputs():
    torch.manual_seed(0)
    m = Tagger(TaggerConfig(**TINY, use_crf=False), {"words": 10}, ["O", "B-X", "I-X"]).eval()
    words = torch.tensor([[2, 3, 4]])
    short = m({"words": words, "mask": torch.ones(1, 3, dtype=torch.bool)})
    padded = m({"words": torch.tensor([[2, 3, 4, 0, 0]]),
                "mask": torch.tensor([[1, 1, 1, 0, 0]], dtype=torch.bool)})
    assert torch.allclose(short, padded[:, :3], atol=1e-6)


def test_softmax_decoding_forbids_illegal_bio():
    tags = ["O", "B-X", "I-X"]
    probs = torch.tensor([[[0.1, 0.2, 0.7], [0.6, 0.1, 0.3]]])   # argmax would start with I-X
    best = constrained_argmax(probs.log(), torch.ones(1, 2, dtype=torch.bool), tags)
    assert tags[best[0, 0]] != "I-X"


def test_unknown_device_and_missing_cuda_are_clear():
    with pytest.raises(TaggerError):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(TaggerError, match="CUDA is not available"):
            resolve_device("cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: no GPU on this machine")
def test_trains_on_gpu_and_loads_on_cpu(tmp_path):
    cfg = TaggerConfig(**TINY)
    tc = TrainConfig(epochs=40, patience=40, lr=1e-2, batch_size=2, device="cuda")
    model = train([S1, S2], [S1, S2], tokenizer="char", model_config=cfg, train_config=tc)
    assert next(model.module.parameters()).is_cuda
    model.save(tmp_path / "m")
    cpu = TaggerModel.load(tmp_path / "m", device="cpu")
    assert cpu.predict([S1.text])[0]["entities"] == model.predict([S1.text])[0]["entities"]


def test_holdout_split_is_deterministic_and_never_empty():
    from tagger.training.tagger import holdout_split
    sents = [Sentence(f"문장 {i}") for i in range(25)]
    tr, dv = holdout_split(sents, 0.1)
    assert [s.text for s in dv] == ["문장 9", "문장 19"] and len(tr) == 23
    tr, dv = holdout_split(sents[:3], 0.1)
    assert len(dv) == 1 and len(tr) == 2


def test_model_json_without_weights_is_a_clear_error(tmp_path):
    (tmp_path / "model.json").write_text(json.dumps({"format_version": 1, "kind": "tagger"}))
    with pytest.raises(TaggerError, match="incomplete model description"):
        TaggerModel.load(tmp_path)


def test_unk_dropout_only_in_training_and_never_on_padding():
    m = Tagger(TaggerConfig(**{**TINY, "unk_dropout": 1.0}), {"words": 10}, ["O", "B-X", "I-X"])
    ids = torch.tensor([[2, 3, 0]])
    m.train()
    assert m._unk(ids).tolist() == [[1, 1, 0]]
    m.eval()
    assert m._unk(ids).tolist() == [[2, 3, 0]]
