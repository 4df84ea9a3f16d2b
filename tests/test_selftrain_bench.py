"""benchmarks/klue_selftrain.py's files: the students' dev set is exactly the engine's own
holdout of the gold training file (so they pick their epoch on gold alone, like the
baseline), and silver sentences join the training file only."""
from pathlib import Path

from tagger.core import Sentence, Span
from tagger.corpus.load import load_corpus, new_corpus, write_corpus
from tagger.training.hooks import holdout_split

ROOT = Path(__file__).resolve().parent.parent


def test_dev_is_the_engines_holdout_and_silver_goes_to_train_only(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import klue_selftrain
    gold = [Sentence(f"{i}번 김철수는 서울에 갔다.", [Span(3, 6, "PS"), Span(8, 10, "LC")]) for i in range(23)]
    (tmp_path / "data").mkdir()
    write_corpus(new_corpus(gold, "klue"), tmp_path / "data" / "train.tsv")
    monkeypatch.setattr(klue_selftrain, "DATA", tmp_path / "data")
    silver = [Sentence("대한민국 국회는 법을 만든다.", [Span(0, 4, "LC")])]
    train_path, dev_path = klue_selftrain.write_files(tmp_path / "work", silver)
    train, dev = holdout_split(load_corpus(tmp_path / "data" / "train.tsv").sentences, 0.1)
    got_train, got_dev = load_corpus(train_path).sentences, load_corpus(dev_path).sentences
    assert [(s.text, s.spans) for s in got_dev] == [(s.text, s.spans) for s in dev] and len(dev) == 2
    assert [(s.text, s.spans) for s in got_train] == [(s.text, s.spans) for s in train + silver]
