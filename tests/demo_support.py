"""Tiny model zips for the demo-server tests: a tagger trained through the
engine on the bundled KLUE sample and an n-gram LM, each saved and zipped the
way ``tagger.workspace.models.export_zip`` zips a workspace model (one folder
holding the data file, then model.json)."""
import zipfile
from pathlib import Path

import tagger
from tagger.lm import NgramConfig, train_lm

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
TINY = dict(tokenizer="char", hidden_size=32, embedding_dim=32, num_layers=1, batch_size=4, lr=1e-2,
            device="cpu", bigram_dim=0, char_dim=8, char_hidden=8, pos_dim=0, feat_dim=0)


def zip_model(model_dir: Path, zip_path: Path) -> Path:
    """``zip_path`` holding ``<folder>/<data file>`` and ``<folder>/model.json``, like export_zip."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for fname in ("weights.pt", "counts.json", "model.json"):
            if (model_dir / fname).is_file():
                zf.write(model_dir / fname, f"{model_dir.name}/{fname}")
    return zip_path


def tiny_tagger(out: Path, epochs: int = 1) -> Path:
    """A small char BiLSTM-CRF on ner_klue.tsv (dev: ner_klue_dev.tsv), saved at ``out``."""
    model = tagger.train(SAMPLES / "ner_klue.tsv", SAMPLES / "ner_klue_dev.tsv", epochs=epochs,
                         patience=epochs, **TINY)
    model.save(out)
    return out


def tiny_ngram(out: Path) -> Path:
    """A trigram LM over eojeols of lm.txt, saved at ``out``."""
    lines = (SAMPLES / "lm.txt").read_text(encoding="utf-8").splitlines()
    train_lm(lines, kind="ngram", tokenizer="eojeol", config=NgramConfig(order=3)).save(out)
    return out
