"""Sentence uncertainty against brute-force enumeration and hand cases; batched = one by one."""
import itertools
import math

import pytest
import torch
from torch import nn

from tagger.core import Token
from tagger.models.crf import CRF, bio_constraints
from tagger.models.encoding import Vocabs, encode
from tagger.models.tagger import Tagger, TaggerConfig, TaggerModel, decode_encoded
from tagger.models.uncertainty import MEASURES, sentence_uncertainty, uncertainty_keys
from tagger.models.vocab import Vocab

TAGS = ["O", "B-PS", "I-PS", "B-LC", "I-LC"]


class TableModule(nn.Module):
    """Emissions looked up per word id: a sentence's emissions are whatever the table says."""

    def __init__(self, n_words: int, tags, crf: bool):
        super().__init__()
        self.tags = list(tags)
        self.table = nn.Embedding(n_words, len(tags))
        self.crf = CRF(len(tags), *bio_constraints(tags)) if crf else None

    def forward(self, batch):
        return self.table(batch["words"])                                   # (B, T, C)


def _tokens(words):
    out, pos = [], 0
    for w in words:
        out.append(Token(w, pos, pos + len(w)))
        pos += len(w)
    return out


def _table_model(n_words=8, crf=True, seed=0):
    torch.manual_seed(seed)
    words = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(n_words)])
    module = TableModule(len(words), TAGS, crf)
    with torch.no_grad():
        module.table.weight.normal_(0, 2.0)
        if crf:
            for p in (module.crf.transitions, module.crf.start, module.crf.end):
                p.normal_()
    return TaggerModel(module, Vocabs(words=words, tags=TAGS), "char", "1", {})


def _brute_paths(model, words):
    """log-score of every tag path of the sentence ``words`` under the table CRF."""
    crf, table = model.module.crf, model.module.table.weight.detach()
    with torch.no_grad():
        trans, start, end = crf._scores()
    em = table[[model.vocabs.words.index(w) for w in words]]
    scores = {}
    for path in itertools.product(range(len(TAGS)), repeat=len(words)):
        s = start[path[0]] + em[0, path[0]] + end[path[-1]]
        for t in range(1, len(words)):
            s = s + trans[path[t - 1], path[t]] + em[t, path[t]]
        scores[path] = float(s)
    return scores


def test_path_matches_brute_force_enumeration():
    model = _table_model()
    sents = [["w0", "w1", "w2", "w3"], ["w4", "w5"], ["w6"], ["w7", "w2", "w0"]]
    got = sentence_uncertainty(model, [_tokens(s) for s in sents], "path")
    for words, u in zip(sents, got):
        scores = _brute_paths(model, words)
        logz = math.log(sum(math.exp(v) for v in scores.values()))
        p_best = math.exp(max(scores.values()) - logz)
        assert u == pytest.approx(1 - p_best, abs=1e-5)
        assert 0.0 <= u <= 1.0


def test_path_key_does_not_saturate():
    model = _table_model()
    long = [_tokens(["w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"] * 20)]
    key = uncertainty_keys(model, long, "path")[0]
    assert key > 0 and math.isfinite(key)
    assert sentence_uncertainty(model, long, "path")[0] == pytest.approx(-math.expm1(-key))


def _softmax_model(prob_rows):
    """A softmax-head model whose word i has the token probabilities prob_rows[i]."""
    words = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(len(prob_rows))])
    module = TableModule(len(words), TAGS, crf=False)
    with torch.no_grad():
        module.table.weight.zero_()
        module.table.weight[2:] = torch.tensor(prob_rows).log()
    return TaggerModel(module, Vocabs(words=words, tags=TAGS), "char", "1", {})


#        O     B-PS  I-PS  B-LC  I-LC
ROWS = [[0.70, 0.20, 0.05, 0.03, 0.02],    # w0: O, margin 0.5
        [0.50, 0.40, 0.05, 0.03, 0.02],    # w1: O, margin 0.1
        [0.10, 0.80, 0.05, 0.03, 0.02],    # w2: B-PS 0.8, margin 0.7
        [0.20, 0.10, 0.60, 0.05, 0.05],    # w3: I-PS 0.6, margin 0.4
        [0.90, 0.04, 0.03, 0.02, 0.01]]    # w4: O 0.9, margin 0.86


def test_hand_cases_softmax_head():
    model = _softmax_model(ROWS)
    toks = [_tokens(["w0", "w1"]), _tokens(["w2", "w3", "w4"])]
    path = sentence_uncertainty(model, toks, "path")
    margin = sentence_uncertainty(model, toks, "margin")
    entity = sentence_uncertainty(model, toks, "entity")
    assert path == pytest.approx([1 - 0.7 * 0.5, 1 - 0.8 * 0.6 * 0.9], abs=1e-5)
    assert margin == pytest.approx([1 - 0.1, 1 - 0.4], abs=1e-5)
    # two O decisions (0.7, 0.5); one PS entity (mean 0.7) and an O (0.9)
    assert entity == pytest.approx([1 - 0.5, 1 - 0.7], abs=1e-5)


def test_empty_sentence_scores_zero_and_unknown_measure_fails():
    model = _softmax_model(ROWS)
    for m in MEASURES:
        assert sentence_uncertainty(model, [[], _tokens(["w1"]), []], m)[0::2] == [0.0, 0.0]
    with pytest.raises(ValueError):
        sentence_uncertainty(model, [[]], "entropy")


def _tiny_tagger(crf: bool):
    torch.manual_seed(3)
    words = Vocab(["<pad>", "<unk>"] + list("가나다라마바사아자차"))
    cfg = TaggerConfig(embedding_dim=8, hidden_size=8, num_layers=1, use_crf=crf, char_encoder="none",
                       pos_dim=0, bigram_dim=0)
    module = Tagger(cfg, {"words": len(words)}, TAGS)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, 1.0)
    return TaggerModel(module, Vocabs(words=words, tags=TAGS), "char", "1", {})


SENTS = ["가나다라마바사", "아자", "", "차가나다라마바사아자차가", "다"]


@pytest.mark.parametrize("crf", [True, False])
@pytest.mark.parametrize("measure", MEASURES)
def test_batched_equals_one_by_one_with_padding(crf, measure):
    model = _tiny_tagger(crf)
    toks = [[Token(c, i, i + 1) for i, c in enumerate(s)] for s in SENTS]
    batched = sentence_uncertainty(model, toks, measure, batch_size=64)
    alone = [sentence_uncertainty(model, [t], measure)[0] for t in toks]
    assert batched == pytest.approx(alone, abs=1e-5)
    assert all(0.0 <= u <= 1.0 for u in batched) and batched[2] == 0.0
    assert len(set(round(u, 6) for u in batched if u)) > 1     # not a constant


def test_entity_measure_agrees_with_the_confidences_the_app_shows():
    """1 - min(entity scores, confidences of O tokens) from the model's own decoding."""
    model = _tiny_tagger(True)
    toks = [[Token(c, i, i + 1) for i, c in enumerate(s)] for s in SENTS if s]
    got = sentence_uncertainty(model, toks, "entity")
    for t, (tags, conf), u in zip(toks, decode_encoded(model.module, encode(toks, model.vocabs), 8), got):
        decisions = [c for tag, c in zip(tags, conf) if tag == "O"]
        decisions += [score for _, score in model.spans(t, tags, conf)]
        assert u == pytest.approx(1 - min(decisions), abs=1e-5)
