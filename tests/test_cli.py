"""The CLI contract: streams, JSON shapes and exit codes (char tokenizer: no JVM)."""
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tagger.cli import main
from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "samples" / "ner_klue.tsv"
DEV = ROOT / "data" / "samples" / "ner_klue_dev.tsv"
CONLL = ROOT / "data" / "samples" / "ner_conll.tsv"
FAST = ["--tokenizer", "char", "--hidden", "32", "--layers", "1", "--batch-size", "8",
        "--lr", "0.01", "--device", "cpu"]


run = run_cli  # (exit code, stdout, stderr) of an in-process CLI call


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "model"
    assert main(["train", "--train", str(SAMPLE), "--dev", str(DEV), *FAST, "--epochs", "3",
                 "--out", str(out)]) == 0
    return out


def test_validate_json_and_exit_code_ok(capsys):
    code, out, _ = run(capsys, "validate", SAMPLE, "--json", "--tokenizer", "char")
    assert code == 0
    rep = json.loads(out)
    assert rep["format"] == "klue" and rep["encoding"] == "utf-8"
    assert rep["sentences"] > 10 and sum(rep["entities"].values()) > 10
    assert rep["coverage"]["char"]["coverage"] == 1.0
    assert {"line", "level", "message"} <= set(rep["problems"][0]) if rep["problems"] else True


def test_validate_reports_path_line_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("서울에\tB-LC O\n김철수가 왔다\tB-PS O\n", encoding="utf-8")
    code, out, errs = run(capsys, "validate", bad, "--format", "sentence-tags")
    assert code == 2
    assert f"{bad}:1: error:" in errs
    code, out, _ = run(capsys, "validate", bad, "--format", "sentence-tags", "--json")
    assert code == 2 and json.loads(out)["problems"][0]["line"] == 1


def test_missing_file_is_exit_2_without_traceback(tmp_path, capsys):
    code, out, errs = run(capsys, "validate", tmp_path / "nope.tsv")
    assert code == 2 and "nope.tsv" in errs and "Traceback" not in errs and out == ""


def test_unknown_option_value_is_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--train", str(SAMPLE), "--cell", "transformer", "--out", "x"])
    assert e.value.code == 2


def test_train_prints_model_dir_last_and_refuses_nonempty_out(model_dir, capsys):
    assert (model_dir / "model.json").is_file() and (model_dir / "weights.pt").is_file()
    code, out, errs = run(capsys, "train", "--train", SAMPLE, *FAST, "--epochs", "1", "--out", model_dir)
    assert code == 2 and "not empty" in errs


def test_train_stdout_is_only_the_model_dir(tmp_path, capsys):
    out_dir = tmp_path / "m2"
    code, out, errs = run(capsys, "train", "--train", SAMPLE, *FAST, "--epochs", "1", "--out", out_dir)
    assert code == 0
    assert out.strip().splitlines()[-1] == str(out_dir)
    assert "epoch 1/1" in errs and "dev F1" in errs and "device: cpu" in errs
    assert "holding out" in errs  # no --dev: a train-internal dev split


def test_resume_continues_from_checkpoint(model_dir, tmp_path, capsys):
    out_dir = tmp_path / "resumed"
    code, out, errs = run(capsys, "train", "--train", SAMPLE, "--dev", DEV, "--resume", model_dir,
                          "--epochs", "4", "--out", out_dir)
    assert code == 0, errs
    assert "resuming" in errs and "epoch 4/4" in errs and "epoch 1/" not in errs
    meta = json.loads((out_dir / "model.json").read_text())
    assert [h["epoch"] for h in meta["history"]] == [1, 2, 3, 4]


def test_evaluate_json_fields(model_dir, capsys):
    code, out, _ = run(capsys, "evaluate", "--model", model_dir, "--data", DEV, "--json")
    assert code == 0
    s = json.loads(out)
    for key in ("entity_f1", "precision", "recall", "macro_f1", "char_macro_f1", "per_type", "sentences"):
        assert key in s
    assert 0.0 <= s["entity_f1"] <= 1.0 and s["sentences"] > 0


def test_predict_json_lines(model_dir, capsys):
    code, out, _ = run(capsys, "predict", "--model", model_dir, "--json", "김민준은 서울에 갔다.", "두 번째 문장")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and len(lines) == 2
    first = lines[0]
    assert first["text"] == "김민준은 서울에 갔다."
    for t in first["tokens"]:
        assert first["text"][t["start"]:t["end"]] == t["text"] and "tag" in t
    for e in first["entities"]:
        assert {"text", "label", "start", "end", "score"} <= set(e)


@pytest.mark.parametrize("fmt", ["klue", "conll", "sentence-tags"])
def test_predict_writes_a_labelled_corpus(model_dir, tmp_path, capsys, fmt):
    import tagger
    code, out, _ = run(capsys, "predict", "--model", model_dir, "--format", fmt, "김민준은 서울에 갔다.")
    assert code == 0
    path = tmp_path / f"pre.{fmt}.tsv"
    path.write_text(out, encoding="utf-8")
    corpus = tagger.load_corpus(path, format=fmt)
    assert not corpus.has_errors() and corpus.sentences[0].text == "김민준은 서울에 갔다."


def test_not_a_model_dir_is_exit_2(tmp_path, capsys):
    code, _, errs = run(capsys, "predict", "--model", tmp_path, "문장")
    assert code == 2 and "not a model directory" in errs


def test_python_dash_m_runs_without_traceback(tmp_path):
    p = subprocess.run([sys.executable, "-m", "tagger", "evaluate", "--model", str(tmp_path / "x"),
                        "--data", str(SAMPLE)], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and "Traceback" not in p.stderr and p.stdout == ""


def test_conll_training_scores_on_words(tmp_path, capsys):
    out_dir = tmp_path / "conll"
    code, _, errs = run(capsys, "train", "--train", CONLL, *FAST, "--epochs", "1", "--out", out_dir)
    assert code == 0, errs
    code, out, _ = run(capsys, "evaluate", "--model", out_dir, "--data", CONLL, "--json")
    assert json.loads(out)["granularity"] == "word"


def _losses(d):
    return [round(h["loss"], 6) for h in json.loads((Path(d) / "model.json").read_text())["history"]]


def test_same_seed_reproduces_and_resume_equals_uninterrupted(tmp_path, capsys):
    args = ["train", "--train", SAMPLE, "--dev", DEV, *FAST, "--seed", "7", "--set", "dropout=0.3"]
    assert run(capsys, *args, "--epochs", "4", "--out", tmp_path / "a")[0] == 0
    assert run(capsys, *args, "--epochs", "4", "--out", tmp_path / "b")[0] == 0
    assert _losses(tmp_path / "a") == _losses(tmp_path / "b")
    # stop after 2 epochs, resume to 4: the same run as an uninterrupted one
    assert run(capsys, *args, "--epochs", "2", "--out", tmp_path / "c")[0] == 0
    code, _, errs = run(capsys, "train", "--train", SAMPLE, "--dev", DEV, "--resume", tmp_path / "c",
                        "--epochs", "4", "--out", tmp_path / "c")
    assert code == 0, errs
    assert _losses(tmp_path / "c") == _losses(tmp_path / "a")


def test_set_option_is_typed_and_checked(tmp_path, capsys):
    code, _, errs = run(capsys, "train", "--train", SAMPLE, *FAST, "--set", "dropout=lots", "--out", tmp_path / "x")
    assert code == 2 and "dropout" in errs
    code, _, errs = run(capsys, "train", "--train", SAMPLE, *FAST, "--set", "nonsense=1", "--out", tmp_path / "y")
    assert code == 2 and "NAME=VALUE" in errs


def _stdin(monkeypatch, data: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_predict_warns_on_undecodable_stdin_and_predicts_every_line(model_dir, capsys, monkeypatch):
    good = ["김민준은 서울에 갔다.", "두 번째 문장"]
    _stdin(monkeypatch, f"{good[0]}\n".encode() + b"\xff\xfe\n" + f"{good[1]}\n".encode())
    code, out, errs = run(capsys, "predict", "--model", model_dir, "--json")
    results = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and [r["text"] for r in results] == [good[0], "\ufffd\ufffd", good[1]]
    warnings = [x for x in errs.splitlines() if ": warning: " in x]
    assert len(warnings) == 1 and warnings[0].startswith("<stdin>:2: warning: ") and "Traceback" not in errs
    # the lines that decode are predicted exactly as when given as arguments
    _, out_args, _ = run(capsys, "predict", "--model", model_dir, "--json", *good)
    assert [results[0], results[2]] == [json.loads(x) for x in out_args.splitlines()]


def test_predict_on_a_binary_blob_warns_per_bad_line_without_traceback(model_dir):
    blob = random.Random(0).randbytes(4000)
    lines = blob.split(b"\n")[:-1] if blob.endswith(b"\n") else blob.split(b"\n")

    def decodes(b):
        try:
            b.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False
    bad = [n for n, line in enumerate(lines, 1) if not decodes(line)]
    assert bad  # random bytes: most lines are not UTF-8
    p = subprocess.run([sys.executable, "-m", "tagger", "predict", "--model", str(model_dir), "--json"],
                       input=blob, capture_output=True, cwd=ROOT, env={**os.environ, "PYTHONUTF8": "1"})
    errs = p.stderr.decode("utf-8")
    assert p.returncode == 0 and "Traceback" not in errs, errs
    warned = [int(x.split(":")[1]) for x in errs.splitlines() if x.startswith("<stdin>:") and ": warning: " in x]
    assert warned == bad
    out = p.stdout.decode("utf-8").split("\n")
    assert out[-1] == "" and len(out) - 1 == len(lines)
    assert all("\ufffd" in json.loads(out[n - 1])["text"] for n in bad)


def test_the_parser_and_help_import_no_torch():
    """``python -m tagger --help`` and argument errors stay fast: building the parser loads no torch."""
    import subprocess
    import sys
    code = "import sys; from tagger.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr
