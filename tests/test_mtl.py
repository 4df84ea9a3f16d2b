"""The auxiliary silver-POS loss (``TaggerConfig.aux_pos_weight``): off it is
exactly the old loss, on it adds weight x the masked cross-entropy of the
auxiliary head; the head is saved and loaded with the model; the silver tags
follow the units of any tokenizer."""
import importlib.util
import json

import pytest
import torch

from tagger.core import Sentence, Span
from tagger.models.encoding import build_vocabs, encode
from tagger.models.tagger import Tagger, TaggerConfig, TaggerModel
from tagger.models.vocab import Vocab
from tagger.tokenizers import get_tokenizer
from tagger.training.tagger import TrainConfig, train

S1 = Sentence("김철수는 서울에 산다.", [Span(0, 3, "PS"), Span(5, 7, "LC")])
S2 = Sentence("삼성전자가 2020년에 왔다", [Span(0, 4, "OG"), Span(6, 11, "DT")])
TINY = dict(hidden_size=16, embedding_dim=8, bigram_dim=8, dropout=0.3, unk_dropout=0.2)
needs_kiwi = pytest.mark.skipif(importlib.util.find_spec("kiwipiepy") is None, reason="kiwipiepy is not installed")


def _batch(use_crf=True):
    """Two sentences of different lengths (so one is padded), made-up silver tags
    with one unlabelled unit (``<pad>`` = 0) inside the first sentence."""
    toks = get_tokenizer("char").tokenize_many([S1.text, S2.text], cache=False).tokens
    silver = [["B-X" if i % 3 == 0 else "I-X" for i in range(len(t))] for t in toks]
    silver[1] = ["B-Y"] * len(toks[1])
    vocabs = build_vocabs(toks, ["DT", "LC", "OG", "PS"], "char", bigrams=True)
    vocabs.aux_pos = Vocab.build(t for row in silver for t in row)
    tags = [["O"] * len(t) for t in toks]
    enc = encode(toks, vocabs, tags, silver)
    batch = enc.tensors
    batch["aux_pos"][0, 2] = 0
    return vocabs, batch


def _module(vocabs, weight, use_crf=True):
    torch.manual_seed(0)
    m = Tagger(TaggerConfig(**TINY, use_crf=use_crf, aux_pos_weight=weight), vocabs.sizes(), vocabs.tags)
    return m.train()


def _loss(module, batch):
    torch.manual_seed(7)  # the same dropout masks for every call
    return module.loss(batch)


@pytest.mark.parametrize("use_crf", [True, False], ids=["crf", "softmax"])
def test_weight_zero_is_exactly_the_old_loss(use_crf):
    vocabs, batch = _batch()
    off = _module(vocabs, 0.0, use_crf)
    assert off.aux_head is None
    torch.manual_seed(7)
    em, mask, gold = off(batch).float(), batch["mask"], batch["tags"]
    if use_crf:
        old = off.crf.nll(em, gold, mask) / mask.sum()
    else:
        old = torch.nn.functional.cross_entropy(em[mask], gold[mask], reduction="sum") / mask.sum()
    assert torch.allclose(_loss(off, batch), old, rtol=0, atol=1e-6)


def test_aux_loss_is_weight_times_masked_cross_entropy():
    vocabs, batch = _batch()
    on, off = _module(vocabs, 0.5), _module(vocabs, 0.0)
    assert on.aux_head.out_features == len(vocabs.aux_pos)
    # the auxiliary head is built last: every other parameter starts the same
    same = {k: v for k, v in on.state_dict().items() if not k.startswith("aux_head")}
    assert all(torch.equal(v, off.state_dict()[k]) for k, v in same.items())
    torch.manual_seed(7)
    logits = on.aux_head(on.features(batch))                          # (B, T, A)
    assert logits.shape == (*batch["mask"].shape, len(vocabs.aux_pos))
    keep = batch["mask"] & (batch["aux_pos"] > 0)
    assert int(keep.sum()) == int(batch["mask"].sum()) - 1           # padding and the unlabelled unit out
    aux = torch.nn.functional.cross_entropy(logits[keep], batch["aux_pos"][keep])
    assert torch.allclose(_loss(on, batch), _loss(off, batch) + 0.5 * aux, atol=1e-5)


def test_labels_under_padding_do_not_count_and_the_head_learns():
    vocabs, batch = _batch()
    on = _module(vocabs, 1.0)
    before = _loss(on, batch)
    noisy = dict(batch, aux_pos=batch["aux_pos"].masked_fill(~batch["mask"], 3))
    assert torch.equal(_loss(on, noisy), before)
    _loss(on, batch).backward()
    assert on.aux_head.weight.grad.abs().sum() > 0
    # predicting never reads the auxiliary labels
    on.eval()
    best, _ = on.predict({k: v for k, v in batch.items() if k != "aux_pos"})
    assert best.shape == batch["mask"].shape


@needs_kiwi
def test_silver_tags_follow_any_units():
    from tagger.training.silver import unit_pos_tags
    text = "김철수는 서울에 산다."
    chars = get_tokenizer("char").tokenize(text)
    words = get_tokenizer("eojeol").tokenize(text)
    by_char, by_word = unit_pos_tags([text, text], [chars, words])
    assert len(by_char) == len(text) and len(by_word) == len(words)
    assert by_char[4] == "O" and by_char[0].startswith("B-")               # a space; a word's first char
    assert by_word == [by_char[w.start] for w in words]


@needs_kiwi
@pytest.mark.parametrize("tokenizer", ["char", "eojeol"])
def test_trained_with_aux_saves_loads_and_predicts_the_same(tmp_path, tokenizer):
    cfg = TaggerConfig(**{**TINY, "dropout": 0.0, "unk_dropout": 0.0}, aux_pos_weight=0.5)
    tc = TrainConfig(epochs=40, patience=40, lr=1e-2, batch_size=2, seed=3, device="cpu")
    model = train([S1, S2], [S1, S2], tokenizer=tokenizer, model_config=cfg, train_config=tc)
    assert model.meta["history"][-1]["loss"] < model.meta["history"][0]["loss"]
    model.save(tmp_path / "m")
    desc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert desc["tagger_config"]["aux_pos_weight"] == 0.5 and "B-NNP" in desc["vocabs"]["aux_pos"]
    loaded = TaggerModel.load(tmp_path / "m")
    assert torch.equal(loaded.module.aux_head.weight, model.module.aux_head.weight)
    texts = [S1.text, S2.text, "", "처음 보는 문장입니다"]
    assert loaded.predict(texts) == model.predict(texts)


def test_a_model_json_without_the_setting_loads_with_it_off(tmp_path):
    cfg = TaggerConfig(**{**TINY, "dropout": 0.0})
    tc = TrainConfig(epochs=2, patience=2, batch_size=2, seed=3, device="cpu")
    model = train([S1, S2], [S1, S2], tokenizer="char", model_config=cfg, train_config=tc)
    model.save(tmp_path / "m")
    path = tmp_path / "m" / "model.json"
    desc = json.loads(path.read_text())
    del desc["tagger_config"]["aux_pos_weight"]                     # as written before the setting existed
    path.write_text(json.dumps(desc))
    loaded = TaggerModel.load(tmp_path / "m")
    assert loaded.module.cfg.aux_pos_weight == 0.0 and loaded.module.aux_head is None
    assert loaded.predict([S1.text]) == model.predict([S1.text])


@needs_kiwi
def test_char_kiwi_units_get_bigrams_and_kiwi_features_together():
    """The fusion run (``--tokenizer char+kiwi`` with the defaults) really has both."""
    toks = get_tokenizer("char+kiwi").tokenize_many([S1.text, S2.text], cache=False).tokens
    vocabs = build_vocabs(toks, ["PS"], "char+kiwi", bigrams=TaggerConfig().bigram_dim > 0)
    m = Tagger(TaggerConfig(), vocabs.sizes(), vocabs.tags)
    assert m.bigram_emb is not None and m.feat_embs is not None and m.pos_emb is not None
    assert encode(toks, vocabs).tensors["bigrams"].gt(1).any()
