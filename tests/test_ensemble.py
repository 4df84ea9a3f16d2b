"""The tagger ensemble: one member, or two identical members, predict exactly
like the model; members with their own vocabularies average emissions and
CRF scores; members that do not fit are a clear error."""
import copy

import pytest
import torch

from tagger import api
from tagger.core import Sentence, Span, TaggerError
from tagger.models.encoding import encode
from tagger.models.ensemble import TaggerEnsemble
from tagger.models.tagger import TaggerConfig
from tagger.training.tagger import TrainConfig, train

S1 = Sentence("김철수는 서울에 산다.", [Span(0, 3, "PS"), Span(5, 7, "LC")])
S2 = Sentence("삼성전자가 2020년에 왔다", [Span(0, 4, "OG"), Span(6, 11, "DT")])
S3 = Sentence("이영희가 부산에서 삼성전자를 다녔다", [Span(0, 3, "PS"), Span(5, 7, "LC"), Span(10, 14, "OG")])
S4 = Sentence("2021년에 김철수는 떠났다", [Span(0, 5, "DT"), Span(7, 10, "PS")])
TEXTS = [S1.text, S2.text, S3.text, "서울의 이영희와 부산의 김철수", ""]
TINY = dict(hidden_size=16, embedding_dim=8, bigram_dim=8, dropout=0.1, unk_dropout=0.0)


def _fit(sentences, seed, use_crf=True):
    tc = TrainConfig(epochs=6, patience=6, lr=1e-2, batch_size=2, seed=seed, device="cpu")
    return train(sentences, sentences, model_config=TaggerConfig(use_crf=use_crf, **TINY), train_config=tc)


@pytest.fixture(scope="module")
def models():
    n = torch.get_num_threads()
    torch.set_num_threads(1)   # see conftest's one_torch_thread
    yield {"a": _fit([S1, S2, S3, S4], 1), "b": _fit([S3, S4, S1, S2, S2], 2),
           "soft": _fit([S1, S2, S3, S4], 1, use_crf=False)}
    torch.set_num_threads(n)


@pytest.mark.parametrize("name", ["a", "soft"])
def test_one_member_or_two_identical_members_predict_exactly_like_the_model(models, name):
    model = models[name]
    alone = model.predict(TEXTS)
    assert TaggerEnsemble([model]).predict(TEXTS) == alone
    assert TaggerEnsemble([model, copy.deepcopy(model)]).predict(TEXTS) == alone


def test_members_with_their_own_vocabularies_average_emissions_and_crf_scores(models):
    a, b = models["a"], models["b"]
    assert a.vocabs.words.itos != b.vocabs.words.itos          # the members really encode differently
    ens = TaggerEnsemble([a, b])
    from tagger.tokenizers import get_tokenizer
    tokens = get_tokenizer("char").tokenize_many([S3.text]).tokens
    n = len(tokens[0])
    batches = [encode(tokens, m.vocabs).batch(torch.tensor([0]), n) for m in (a, b)]
    ens.module.eval()
    with torch.no_grad():
        want = (a.module(batches[0]) + b.module(batches[1])) / 2                   # (1, T, C)
        got = ens.module({"mask": batches[0]["mask"], "members": batches})
    assert got.shape == (1, n, len(a.vocabs.tags)) and torch.allclose(got, want, atol=1e-6)
    assert torch.allclose(ens.module.crf.transitions, (a.module.crf.transitions + b.module.crf.transitions) / 2)
    out = ens.predict(TEXTS)
    assert [len(r["tokens"]) for r in out] == [len(t) for t in TEXTS]
    assert out[0].keys() == a.predict(TEXTS)[0].keys()
    assert set(api.evaluate(ens, [S1, S2, S3, S4])) >= {"entity_f1", "precision", "recall"}


def test_members_that_do_not_fit_are_a_clear_error(models, tmp_path):
    other = _fit([Sentence("서울에 산다", [Span(0, 2, "LOC")])], 1)
    with pytest.raises(TaggerError, match="member 2 does not fit member 1: other tags"):
        TaggerEnsemble([models["a"], other])
    with pytest.raises(TaggerError, match="another head"):
        TaggerEnsemble([models["a"], models["soft"]])
    with pytest.raises(TaggerError, match="at least one"):
        TaggerEnsemble([])
    with pytest.raises(TaggerError, match="not saved"):
        TaggerEnsemble([models["a"]]).save(tmp_path / "x")


def test_load_all_reads_saved_members(models, tmp_path):
    models["a"].save(tmp_path / "a")
    models["b"].save(tmp_path / "b")
    ens = TaggerEnsemble.load_all([tmp_path / "a", tmp_path / "b"])
    assert ens.predict(TEXTS) == TaggerEnsemble([models["a"], models["b"]]).predict(TEXTS)
