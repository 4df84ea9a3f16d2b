"""What the Language models page shows, computed here: the workspace's LMs
compared by perplexity, bits per character and OOV rate on one held-out
dataset, n-gram sparsity by order (the share of held-out n-grams never seen
in training), and next-token suggestions and samples for a prefix."""
from __future__ import annotations

from tagger.workspace import models as ws_models
from tagger.core import TaggerError
from tagger.workspace.memo import Memo
from tagger.workspace.store import Workspace

LM = ("lm",)
SPACE = "␣"          # how a space token (char units) is shown
MAX_PREFIX = 500
_EVALS = Memo("language model evaluations", size=64)


def lm_models(ws: Workspace) -> list[dict]:
    return ws_models.models(ws, kinds=LM)


def describe(row: dict) -> str:
    """``ngram 3 · kn``, ``rnn lstm 2×256 · tied``, ``window 4 · 256``: an LM's kind and main settings."""
    s = row.get("summary") or {}
    kind, c = s.get("lm_kind") or "?", s.get("lm_config") or {}
    if kind == "ngram":
        k = f" k={c.get('k')}" if c.get("smoothing") == "addk" else ""
        return f"ngram {c.get('order')} · {c.get('smoothing')}{k}"
    if kind == "rnn":
        tied = " · tied" if c.get("tie") else ""
        return f"rnn {c.get('cell')} {c.get('num_layers')}×{c.get('hidden_size')}{tied}"
    return f"window {c.get('order')} · {c.get('hidden_size')}"


def dataset_texts(ws: Workspace, dataset_id, purpose: str = "evaluate on") -> list[str]:
    """The sentence text of any dataset (labels ignored), blank lines dropped."""
    d = ws.dataset(dataset_id)
    texts = [s.text for s in ws.corpus(d["id"]).sentences if s.text.strip()]
    if not texts:
        raise TaggerError(f"{d['name']} has no text to {purpose}")
    return texts


def evaluate(ws: Workspace, model_id, dataset_id) -> dict:
    """``lm.evaluate`` of one LM on a dataset's text (memoised per model file and dataset)."""
    row = ws_models.model_row(ws, model_id, kinds=LM)
    d = ws.dataset(dataset_id)
    path = ws_models.model_dir(ws, row["id"]) / "model.json"
    key = (str(ws.root), row["id"], path.stat().st_mtime_ns, d["id"])
    return _EVALS.get(key, lambda: ws_models.load(ws, row["id"], kinds=LM).evaluate(dataset_texts(ws, d["id"])))


def compare(ws: Workspace, dataset_id, model_ids=None) -> tuple[list[dict], list[str]]:
    """(one row per LM: model, kind, tokenizer, perplexity, bits/char, OOV
    rate …; a message per LM that could not be evaluated)."""
    rows, problems = [], []
    for m in lm_models(ws):
        if model_ids is not None and m["id"] not in model_ids:
            continue
        try:
            r = evaluate(ws, m["id"], dataset_id)
        except TaggerError as err:
            problems.append(f"{m['name']} ({m['id']}): {err}")
            continue
        rows.append({"model": m["id"], "name": m["name"], "kind": describe(m), "tokenizer": m["tokenizer"],
                     "perplexity": r["perplexity"], "bits/char": r["bits_per_char"], "OOV rate": r["oov_rate"],
                     "tokens": r["tokens"], "vocabulary": r["vocab_size"],
                     "unseen_ngrams": r.get("unseen_ngrams")})
    return rows, problems


def sparsity(rows: list[dict]) -> list[dict]:
    """Per n-gram LM and order: the share of held-out n-grams unseen in training."""
    return [{"model": f"{r['name']} ({r['model']})", "order": int(order), "unseen share": share}
            for r in rows for order, share in sorted((r.get("unseen_ngrams") or {}).items(), key=lambda x: int(x[0]))]


def show_token(token: str) -> str:
    return SPACE if token == " " else token


def complete(ws: Workspace, model_id, prefix: str, top_k: int = 5, samples: int = 0,
             temperature: float = 1.0, max_tokens: int = 30, seed: int = 1) -> dict:
    """Top-k next tokens after ``prefix`` with probabilities, and sampled
    continuations (``samples``; ``temperature`` > 0)."""
    if not 1 <= int(top_k) <= 50 or not 0 <= int(samples) <= 20:
        raise TaggerError("suggestions: 1 to 50; samples: 0 to 20")
    if not 0 < float(temperature) <= 10:
        raise TaggerError(f"temperature {temperature}: must be above 0 (and at most 10)")
    lm = ws_models.load(ws, model_id, kinds=LM)
    r = lm.complete(str(prefix)[-MAX_PREFIX:], top_k=int(top_k), samples=int(samples),
                    temperature=float(temperature), max_tokens=int(max_tokens), seed=int(seed))
    r["rows"] = [{"next token": show_token(s["token"]), "probability": s["prob"]} for s in r["suggestions"]]
    joiner = "" if lm.tokenizer.startswith("char") or not prefix.strip() else " "
    r["continuations"] = [joiner + s if s else "" for s in r["samples"]]  # each follows the prefix
    r["tokenizer"] = lm.tokenizer
    return r
