"""Plain per-unit labels (POS and the like): reading, detection, scoring by
token accuracy and per-tag P/R/F1, training, and the CLI."""
import json

import pytest

import tagger
from tagger.corpus.load import dumps_corpus, load_corpus
from tagger.models.tagger import TaggerConfig
from tagger.scoring import score, score_plain
from tagger.models.tagger import TaggerModel
from tagger.training.tagger import TrainConfig, train
from tagger.core import Sentence, Span

from conftest import SAMPLES, run_cli

POS = SAMPLES / "pos_conll.tsv"
CONLL_POS = "철수\tNNP\n가\tJKS\n왔\tVV\n다\tEFN\n\n영희\tNNP\n는\tJX\n\n"
CHAR_POS = "김\tB-NNP\n씨\tB-NNB\n\n가\tB-VV\n다\tB-EFN\n"


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def test_pos_conll_is_detected_as_plain_and_round_trips(tmp_path):
    p = _write(tmp_path, "pos.tsv", CONLL_POS)
    c = load_corpus(p)
    assert (c.format, c.scheme, c.problems) == ("conll", "plain", [])
    assert [s.text for s in c.sentences] == ["철수 가 왔 다", "영희 는"]
    assert c.gold_tags(c.sentences[0]) == ["NNP", "JKS", "VV", "EFN"]
    assert dumps_corpus(c) == p.read_bytes()


def test_bundled_pos_sample_round_trips_byte_for_byte():
    c = load_corpus(POS)
    assert (c.format, c.scheme) == ("conll", "plain") and len(c.sentences) >= 10
    assert dumps_corpus(c) == POS.read_bytes()


def test_bio_files_stay_bio_and_plain_can_be_forced(tmp_path):
    assert load_corpus(SAMPLES / "ner_conll.tsv").scheme == "bio"
    assert load_corpus(SAMPLES / "ner_klue.tsv").scheme == "bio"
    p = _write(tmp_path, "chars.tsv", CHAR_POS)  # B-NNP is BIO-shaped: entity reading by default
    assert load_corpus(p).scheme == "bio"
    forced = load_corpus(p, scheme="plain")
    assert forced.scheme == "plain" and forced.gold_tags(forced.sentences[0]) == ["B-NNP", "B-NNB"]
    assert dumps_corpus(forced) == p.read_bytes()


def test_blank_plain_tag_is_an_error_on_its_line(tmp_path):
    p = _write(tmp_path, "bad.tsv", "철수\tNNP\n가\t\n\n영희\tNNP\n는\tJX\n")
    c = load_corpus(p, format="conll", scheme="plain")
    assert [(q.line, q.level) for q in c.problems] == [(2, "error")] and "blank tag" in c.problems[0].message


def test_unknown_scheme_is_a_clear_error(tmp_path):
    p = _write(tmp_path, "pos.tsv", CONLL_POS)
    with pytest.raises(tagger.TaggerError, match="unknown tag scheme 'pos'"):
        load_corpus(p, scheme="pos")


def test_score_plain_counts_tokens_and_per_tag():
    s = Sentence("a b c d", [Span(0, 1, "N"), Span(2, 3, "V"), Span(4, 5, "N"), Span(6, 7, "J")])
    pred = [Span(0, 1, "N"), Span(2, 3, "N"), Span(4, 5, "N"), Span(6, 7, "J")]
    r = score_plain([s], [pred], "word")
    assert r["accuracy"] == 0.75 and r["tokens"] == 4
    assert r["per_tag"]["N"] == {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    assert r["per_tag"]["V"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert r["macro_f1"] == pytest.approx((0.8 + 0.0 + 1.0) / 3)


def test_bio_scores_carry_token_accuracy_over_non_space_units():
    s = Sentence("ab c", [Span(0, 2, "PS")])
    r = score([s], [[Span(0, 1, "PS")]], "char")  # gold B I _ O, pred B O _ O
    assert r["accuracy"] == pytest.approx(2 / 3)


def _two_pos_sentences():
    c = load_corpus(POS)
    return c.sentences[:2]


@pytest.mark.parametrize("use_crf", [False, True], ids=["softmax", "crf"])
def test_plain_tagger_overfits_two_sentences_and_keeps_its_scheme(tmp_path, use_crf):
    two = _two_pos_sentences()
    cfg = TaggerConfig(hidden_size=32, embedding_dim=16, dropout=0.0, unk_dropout=0.0, char_dim=8,
                       char_hidden=16, use_crf=use_crf)
    tc = TrainConfig(epochs=60, patience=60, lr=1e-2, batch_size=2, seed=3, device="cpu")
    model = train(two, two, tokenizer="eojeol", model_config=cfg, train_config=tc,
                  granularity="word", scheme="plain")
    assert model.meta["history"][-1]["dev_metric"] == "accuracy"
    model.save(tmp_path / "m")
    loaded = TaggerModel.load(tmp_path / "m")
    assert loaded.meta["scheme"] == "plain"
    r = tagger.evaluate(loaded, two)
    assert r["scheme"] == "plain" and r["accuracy"] == 1.0 and "entity_f1" not in r


def test_cli_trains_evaluates_and_predicts_pos(tmp_path, capsys):
    out = tmp_path / "pos"
    code, stdout, errs = run_cli(capsys, "train", "--train", POS, "--dev", POS, "--tokenizer", "eojeol",
                                 "--hidden", "32", "--layers", "1", "--epochs", "2", "--device", "cpu",
                                 "--out", out)
    assert code == 0 and "dev accuracy" in errs
    code, stdout, _ = run_cli(capsys, "evaluate", "--model", out, "--data", POS, "--json")
    r = json.loads(stdout)
    assert code == 0 and set(r) >= {"accuracy", "per_tag", "macro_f1"} and r["tokens"] > 100
    assert set(r["per_tag"]) >= {"NNG", "JKS"}
    code, stdout, _ = run_cli(capsys, "predict", "--model", out, "오늘 아침")
    assert code == 0 and stdout.count("/") == 2


@pytest.mark.parametrize("argv", [
    ["evaluate", "--model", "{tmp}/tagger", "--data", str(POS), "--scheme", "pos"],
    ["train", "--train", str(POS), "--scheme", "nope", "--out", "{tmp}/x"],
])
def test_bad_scheme_exits_2(tmp_path, capsys, argv):
    with pytest.raises(SystemExit) as e:  # argparse rejects the choice itself
        run_cli(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert e.value.code == 2


@pytest.mark.kkma
def test_silver_pos_labels_each_character_with_kkmas_morpheme(tmp_path, capsys):
    src = _write(tmp_path, "s.txt", "철수가 학교에 갔다.\n\n영희는 밥을 먹었다.\n")
    code, out, _ = run_cli(capsys, "silver-pos", "--text", src, "--out", tmp_path / "pos.tsv")
    assert code == 0 and out.strip() == str(tmp_path / "pos.tsv")
    c = load_corpus(tmp_path / "pos.tsv")
    assert c.format == "klue" and c.scheme == "bio" and len(c.sentences) == 2
    first = c.sentences[0]
    assert [(first.text[s.start:s.end], s.label) for s in first.spans][:3] == [("철수", "NNG"), ("가", "JKS"), ("학교", "NNG")]
    assert c.gold_tags(first)[3] == "O"  # the space
    code, _, errs = run_cli(capsys, "silver-pos", "--text", src, "--out", tmp_path / "pos.tsv")
    assert code == 2 and "--overwrite" in errs
