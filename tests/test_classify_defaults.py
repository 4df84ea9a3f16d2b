"""The classifier's defaults: what ``classify-train`` builds with no flags, and
old saved classifiers whose config leaves settings out (saved before a default
moved) loading with the defaults they were saved under."""
import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from tagger.models.classifier import STORED_DEFAULTS, ClassifierConfig, ClassifierModel

ROOT = Path(__file__).resolve().parent.parent
LEGACY = ROOT / "tests" / "fixtures" / "legacy"
TEXTS = json.loads((LEGACY / "expected.json").read_text(encoding="utf-8"))["texts"]


def test_the_defaults_moved_and_the_old_ones_are_kept():
    assert STORED_DEFAULTS != asdict(ClassifierConfig())
    assert set(STORED_DEFAULTS) == set(asdict(ClassifierConfig()))


def test_a_saved_config_missing_settings_loads_with_the_old_defaults(tmp_path):
    old = ClassifierModel.load(LEGACY / "models" / "classifier")
    copy = tmp_path / "classifier"
    shutil.copytree(LEGACY / "models" / "classifier", copy)
    desc = json.loads((copy / "model.json").read_text(encoding="utf-8"))
    moved = [k for k, v in asdict(ClassifierConfig()).items() if STORED_DEFAULTS[k] != v]
    dropped = [k for k in moved if desc["classifier_config"][k] == STORED_DEFAULTS[k]]
    assert dropped  # the fixture was saved with some of the old defaults that have since moved
    for key in dropped:
        del desc["classifier_config"][key]
    (copy / "model.json").write_text(json.dumps(desc), encoding="utf-8")
    model = ClassifierModel.load(copy)
    assert model.module.cfg == old.module.cfg
    for got, want in zip(model.predict(TEXTS), old.predict(TEXTS)):
        assert got["probs"] == pytest.approx(want["probs"], abs=1e-6)


def test_classify_train_without_flags_builds_the_dataclass_defaults(monkeypatch, tmp_path):
    from tagger.cli import main
    import tagger.training.classifier as training
    seen = {}

    def fake(train, dev, *, tokenizer, config, train_config, callbacks):
        seen["config"] = config
        raise SystemExit(0)

    monkeypatch.setattr(training, "train_classifier", fake)
    data = tmp_path / "t.tsv"
    data.write_text("좋은 날\tpos\n나쁜 날\tneg\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["classify-train", "--train", str(data), "--out", str(tmp_path / "m")])
    assert seen["config"] == ClassifierConfig()
