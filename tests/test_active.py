"""The annotation loop's engine: warm start by vocabulary string and by tag,
a round trained warm, and the review order."""
import pytest
import torch

from tagger.core import Sentence, Span, TaggerError, Token
from tagger.models.encoding import Vocabs, tag_set
from tagger.models.tagger import Tagger, TaggerConfig
from tagger.models.vocab import Vocab
from tagger.training.active import LoopConfig, rank_by_uncertainty, train_round
from tagger.training.hooks import Callback
from tagger.training.warm import from_tagger

TINY = TaggerConfig(embedding_dim=8, hidden_size=8, num_layers=1, char_dim=4, char_hidden=4,
                    pos_dim=0, bigram_dim=8)
FAST = LoopConfig(epochs=2, patience=1, fresh_epochs=2, fresh_patience=1, batch_size=4, device="cpu")

SENTS = [Sentence("김철수는 서울에 산다.", [Span(0, 3, "PS"), Span(5, 7, "LC")]),
         Sentence("이영희가 부산에 갔다.", [Span(0, 3, "PS"), Span(5, 7, "LC")]),
         Sentence("박민수는 대구에 왔다.", [Span(0, 3, "PS"), Span(5, 7, "LC")]),
         Sentence("서울은 크다.", [Span(0, 2, "LC")]),
         Sentence("김철수가 웃었다.", [Span(0, 3, "PS")])] * 2


@pytest.fixture(scope="module")
def previous():
    torch.set_num_threads(1)
    return train_round(SENTS, tokenizer="char", config=FAST, model_config=TINY)


def _fresh(previous, words, tags):
    """A fresh module for vocabularies that add ``words`` to the previous ones."""
    old = previous.vocabs
    vocabs = Vocabs(words=Vocab(old.words.itos + words), tags=tags,
                    bigrams=Vocab(old.bigrams.itos[:2] + ["새로"] + old.bigrams.itos[2:]))
    torch.manual_seed(7)
    return Tagger(TINY, vocabs.sizes(), vocabs.tags), vocabs


def test_warm_start_copies_matching_rows_and_keeps_new_words_fresh(previous):
    module, vocabs = _fresh(previous, ["펭귄"], list(previous.vocabs.tags))
    before = {n: p.detach().clone() for n, p in module.named_parameters()}
    report = from_tagger(previous)(module, vocabs, "char")
    old, new = previous.module.word_emb.weight, module.word_emb.weight
    for w in ("김", "서", "<unk>"):
        assert torch.equal(new[vocabs.words.index(w)], old[previous.vocabs.words.index(w)])
    assert torch.equal(new[vocabs.words.index("펭귄")], before["word_emb.weight"][vocabs.words.index("펭귄")])
    # bigrams shifted by one row: matched by string, not by position
    ob, nb = previous.vocabs.bigrams, vocabs.bigrams
    assert torch.equal(module.bigram_emb.weight[nb.index(ob.itos[2])], previous.module.bigram_emb.weight[2])
    assert torch.equal(module.bigram_emb.weight[nb.index("새로")], before["bigram_emb.weight"][nb.index("새로")])
    for name in ("rnn.fwd.0.weight_ih_l0", "proj.weight", "crf.transitions"):
        assert torch.equal(dict(module.named_parameters())[name], dict(previous.module.named_parameters())[name])
    assert report["warm_start"] and report["same_tags"] and report["params_copied"] > 0
    assert report["rows_copied"]["words"] == len(previous.vocabs.words) == len(vocabs.words) - 1


def test_a_new_tag_keeps_its_fresh_rows_and_the_others_are_matched_by_tag(previous):
    tags = tag_set(["DT", "LC", "PS"])           # DT is new; the old tags move down two rows
    module, vocabs = _fresh(previous, [], tags)
    before = module.proj.weight.detach().clone()
    report = from_tagger(previous)(module, vocabs, "char")
    old_tags = previous.vocabs.tags
    for t in old_tags:
        assert torch.equal(module.proj.weight[tags.index(t)], previous.module.proj.weight[old_tags.index(t)])
    i, j = tags.index("B-PS"), tags.index("I-PS")
    a, b = old_tags.index("B-PS"), old_tags.index("I-PS")
    assert module.crf.transitions[i, j] == previous.module.crf.transitions[a, b]
    assert torch.equal(module.proj.weight[tags.index("B-DT")], before[tags.index("B-DT")])
    assert not report["same_tags"] and report["rows_copied"]["tags"] == len(old_tags)


def test_a_different_tokenizer_is_refused(previous):
    module, vocabs = _fresh(previous, [], list(previous.vocabs.tags))
    with pytest.raises(TaggerError, match="same tokenizer"):
        from_tagger(previous)(module, vocabs, "kiwi")


def test_a_warm_round_reports_its_start_and_learns_on(previous):
    said = []

    class Listen(Callback):
        def on_message(self, text):
            said.append(text)

    more = SENTS + [Sentence("펭귄이 남극에 산다.", [Span(0, 2, "PS"), Span(4, 6, "LC")])]
    model = train_round(more, previous, config=FAST, model_config=TINY, callbacks=[Listen()])
    assert model.meta["transfer"]["warm_start"]
    assert any(m.startswith("warm start from the previous model") for m in said)
    assert "펭" in model.vocabs.words and "펭" not in previous.vocabs.words


def test_rank_is_most_uncertain_first_ties_by_index(previous):
    texts = ["김철수는 서울에 산다.", "", "서울은 크다.", "김철수는 서울에 산다.", "펭귄이 남극에 산다. 서울은 크다."]
    toks = [[Token(c, i, i + 1) for i, c in enumerate(t)] for t in texts]
    for measure in ("path", "margin", "entity"):
        ranked = rank_by_uncertainty(previous, toks, measure)
        assert sorted(i for i, _ in ranked) == list(range(len(texts)))
        scores = [u for _, u in ranked]
        assert scores == sorted(scores, reverse=True) and ranked[-1] == (1, 0.0)
        order = [i for i, _ in ranked]
        assert order.index(0) == order.index(3) - 1   # the duplicate comes right after, by index


def test_loop_config_checks_its_measure_and_maps_to_train_config():
    with pytest.raises(ValueError, match="entropy"):
        LoopConfig(measure="entropy")
    cfg = LoopConfig(epochs=5, patience=2, lr=0.01, fresh_epochs=9, fresh_patience=4)
    assert (cfg.train_config().epochs, cfg.train_config().patience, cfg.train_config().lr) == (5, 2, 0.01)
    assert (cfg.train_config(warm=False).epochs, cfg.train_config(warm=False).patience) == (9, 4)


def test_the_simulated_annotators_edit_count():
    """benchmarks/active_loop.py's edits: exact 0; relabel or boundary fix 1; delete 1; add 1."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "active_loop.py"
    spec = importlib.util.spec_from_file_location("active_loop_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    g = [Span(0, 3, "PS"), Span(5, 7, "LC"), Span(10, 12, "DT"), Span(20, 22, "OG")]
    assert bench.edits(g, g) == 0
    assert bench.edits(g, []) == 4 and bench.edits([], g) == 4
    p = [Span(0, 3, "OG"),            # relabel: 1
         Span(4, 7, "LC"),            # boundary: 1
         Span(10, 11, "QT"),          # boundary and label: 1
         Span(15, 17, "PS")]          # extra: 1; OG 20-22 missed: 1
    assert bench.edits(g, p) == 5
    # one suggestion over two gold entities: one fix, one add
    assert bench.edits([Span(0, 3, "PS"), Span(4, 6, "PS")], [Span(0, 6, "PS")]) == 2
