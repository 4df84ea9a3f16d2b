"""Starting a tagger from an RNN LM: embeddings mapped through both
vocabularies, the first forward layer copied where the shapes fit, and clear
refusals where they do not."""
import pytest
import torch

from tagger.models.encoding import build_vocabs
from tagger.lm import LMDataConfig, LMTrainConfig, NgramConfig, RNNLMConfig, save_lm, train_lm
from tagger.models.tagger import Tagger, TaggerConfig
from tagger.tokenizers import get_tokenizer
from tagger.api import train
from tagger.training.tagger import TrainConfig
from tagger.lm.transfer import init_from_lm
from tagger.core import Sentence, Span, TaggerError

LINES = ["김철수는 서울에 산다.", "삼성전자가 2020년에 왔다", "서울 시청에서 김철수를 만났다."]
S1 = Sentence(LINES[0], [Span(0, 3, "PS"), Span(5, 7, "LC")])
S2 = Sentence(LINES[1], [Span(0, 4, "OG"), Span(6, 11, "DT")])
TC = LMTrainConfig(epochs=2, batch_size=2, bptt=8, device="cpu")


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    lm = train_lm(LINES, LINES, kind="rnn", tokenizer="char", config=RNNLMConfig("lstm", 16, 24, 1, 0.0, False),
                  train_config=TC, data_config=LMDataConfig(min_freq=1))
    return save_lm(lm, tmp_path_factory.mktemp("lm") / "rnn")


def _tagger(**kw):
    toks = get_tokenizer("char").tokenize_many([S1.text, S2.text], cache=False).tokens
    vocabs = build_vocabs(toks, ["PS", "LC", "OG", "DT"], "char", bigrams=True)
    cfg = TaggerConfig(**{"embedding_dim": 16, "hidden_size": 24, "bigram_dim": 8, **kw})
    return Tagger(cfg, vocabs.sizes(), vocabs.tags), vocabs


def test_embeddings_and_first_forward_layer_come_from_the_lm(lm_dir):
    from tagger.lm import load_lm
    lm = load_lm(lm_dir)
    module, vocabs = _tagger()
    back_before = module.rnn.bwd[0].weight_hh_l0.clone()
    report = init_from_lm(module, vocabs, "char", lm_dir)
    shared = [w for w in vocabs.words.itos[1:] if w in lm.vocab.stoi]
    assert report["embeddings_copied"] == len(shared) > 10 and report["first_layer"]
    for w in shared:
        assert torch.equal(module.word_emb.weight[vocabs.words.stoi[w]], lm.module.emb.weight[lm.vocab.stoi[w]])
    fwd, src = module.rnn.fwd[0], lm.module.rnn
    assert fwd.weight_ih_l0.shape[1] == 16 + 8  # token embedding + bigram columns
    assert torch.equal(fwd.weight_ih_l0[:, :16], src.weight_ih_l0)
    assert torch.equal(fwd.weight_hh_l0, src.weight_hh_l0) and torch.equal(fwd.bias_ih_l0, src.bias_ih_l0)
    assert torch.equal(module.rnn.bwd[0].weight_hh_l0, back_before)  # no LM counterpart


def test_first_layer_is_skipped_with_the_reason_when_shapes_differ(lm_dir):
    module, vocabs = _tagger(hidden_size=32)
    report = init_from_lm(module, vocabs, "char", lm_dir)
    assert not report["first_layer"] and "hidden sizes differ" in report["first_layer_skipped"]
    module, vocabs = _tagger(rnn_type="gru")
    assert "cells differ" in init_from_lm(module, vocabs, "char", lm_dir)["first_layer_skipped"]


def test_refusals_name_the_cause(lm_dir, tmp_path):
    module, vocabs = _tagger(embedding_dim=32)
    with pytest.raises(TaggerError, match="set embedding_dim=16"):
        init_from_lm(module, vocabs, "char", lm_dir)
    module, vocabs = _tagger()
    with pytest.raises(TaggerError, match="reads char units but the tagger eojeol"):
        init_from_lm(module, vocabs, "eojeol", lm_dir)
    ngram = save_lm(train_lm(LINES, kind="ngram", tokenizer="char", config=NgramConfig(2)), tmp_path / "ng")
    with pytest.raises(TaggerError, match="only an RNN LM"):
        init_from_lm(module, vocabs, "char", ngram)


def test_training_from_an_lm_records_the_transfer_and_learns(lm_dir):
    cfg = TaggerConfig(embedding_dim=16, hidden_size=24, bigram_dim=8, dropout=0.0, unk_dropout=0.0)
    tc = TrainConfig(epochs=60, patience=60, lr=1e-2, batch_size=2, seed=3, device="cpu", init_lm=str(lm_dir))
    model = train([S1, S2], [S1, S2], tokenizer="char", model_config=cfg, train_config=tc)
    assert model.meta["transfer"]["first_layer"] and model.meta["train_config"]["init_lm"] == str(lm_dir)
    assert model.meta["history"][-1]["dev_f1"] == 1.0
