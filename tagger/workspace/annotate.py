"""The annotation loop's two ends: pre-annotating unlabelled text with a model
(a new labelled dataset, reviewed and corrected like any other) and exporting a
dataset with its corrections in its original format, checked by reading the
written bytes back — all of it, or only the sentences of chosen review statuses."""
from __future__ import annotations

import os
import tempfile

from tagger.workspace.evaluation import predicted_spans, predictions
from tagger.workspace.review import snap
from tagger.core import Sentence, TaggerError
from tagger.workspace.store import Workspace
from tagger.workspace.status import STATUSES, check_status, progress, reviewer_counts, statuses, status_of

LABELLED = ("klue", "conll", "sentence-tags", "doccano", "labelstudio")
_EXT = {"klue": "tsv", "conll": "conll", "sentence-tags": "tsv", "doccano": "jsonl", "labelstudio": "json"}


def _roundtrip(ws: Workspace, data: bytes, fmt: str, encoding: str, expect) -> list[str]:
    """Problems found reading ``data`` back: load errors and sentences whose
    text or entities differ from ``expect`` [(text, spans)]."""
    from tagger.corpus.load import load_corpus
    fd, tmp = tempfile.mkstemp(dir=ws.tmp_dir(), suffix=".roundtrip")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        back = load_corpus(tmp, format=fmt, encoding=encoding)
    finally:
        os.unlink(tmp)
    out = [f"line {p.line}: {p.message}" for p in back.problems if p.level == "error"]
    got = [(s.text, sorted(s.spans)) for s in back.sentences]
    if len(got) != len(expect):
        out.append(f"read back {len(got)} sentences, wrote {len(expect)}")
    for i, (a, b) in enumerate(zip(expect, got)):
        if a != b:
            out.append(f"sentence {i + 1} reads back differently")
    return out


def _chosen(ws: Workspace, d: dict, corpus, only) -> tuple[list[int], str]:
    """The indices of the sentences to export and the filename's tag. An
    adjudicated sentence's status here is ``corrected`` (its final spans were
    decided), whatever the latest status by anyone says."""
    if only is None:
        return list(range(len(corpus.sentences))), "corrected"
    wanted = {check_status(s) for s in ([only] if isinstance(only, str) else only)}
    current, final = statuses(ws, d["id"]), ws.adjudicated(d["id"])
    keep = [i for i in range(len(corpus.sentences))
            if ("corrected" if i in final else status_of(current, i)) in wanted]
    names = [s for s in STATUSES if s in wanted]
    if not keep:
        raise TaggerError(f"{d['name']} has no {' or '.join(names) or 'chosen'} sentences yet: nothing to export")
    return keep, "-".join(names)


def export_corrected(ws: Workspace, dataset_id, only=None) -> dict:
    """The dataset with its corrections, in its own format and encoding: per
    sentence its adjudicated version if any, else its latest correction if any
    (``Workspace.corpus(corrected=True)``): ``data`` (bytes), ``filename``,
    ``corrected`` (sentences changed), ``adjudicated`` (of them, adjudicated),
    ``sentences`` (written) and ``problems`` (empty when the file reads back
    identical); ``counts`` (sentences per review status) and ``reviewers``
    (per reviewer: accepted/corrected/skipped). ``only`` (statuses, like
    ``("accepted", "corrected")``) writes just the sentences whose status is
    one of them; an adjudicated sentence counts as ``corrected``."""
    from tagger.corpus.load import dumps_corpus
    d = ws.dataset(dataset_id)
    corpus = ws.corpus(d["id"], corrected=True)
    if corpus.format not in LABELLED:
        raise TaggerError(f"{d['name']} is {corpus.format} (no entities): pre-annotate it with a model first")
    keep, tag = _chosen(ws, d, corpus, only)
    if only is not None:
        corpus = corpus.replace([corpus.sentences[i] for i in keep])
    fixes = set(ws.corrections(d["id"])) & set(keep)
    final = set(ws.adjudicated(d["id"])) & set(keep)
    data = dumps_corpus(corpus)
    expect = [(s.text, snap(s.text, s.spans, corpus.granularity)) for s in corpus.sentences]
    problems = _roundtrip(ws, data, corpus.format, corpus.encoding, expect)
    stem, dot, ext = d["name"].rpartition(".")
    name = f"{stem}.{tag}.{ext}" if dot else f"{d['name']}.{tag}"
    counts = progress(ws, d["id"])
    return {"data": data, "filename": name, "corrected": len(fixes), "adjudicated": len(final),
            "sentences": len(corpus.sentences), "problems": problems, "format": corpus.format, "encoding": corpus.encoding,
            "counts": {s: counts[s] for s in STATUSES}, "reviewers": reviewer_counts(ws, d["id"])}


def preannotate(ws: Workspace, dataset_id, model_id, fmt: str = "klue") -> dict:
    """Tag every sentence of ``dataset_id`` with the model and store the result
    as a new labelled dataset in ``fmt`` (the source dataset is untouched)."""
    from tagger.corpus.load import GRANULARITY, dumps_corpus, new_corpus
    if fmt not in LABELLED:
        raise TaggerError(f"pre-annotation writes one of {', '.join(LABELLED)}, not {fmt!r}")
    d = ws.dataset(dataset_id)
    results = predictions(ws, model_id, d["id"])
    granularity = GRANULARITY[fmt]
    sentences = [Sentence(text=r["text"], spans=snap(r["text"], spans, granularity), id=f"pre-{i + 1:05d}")
                 for i, (r, spans) in enumerate(zip(results, predicted_spans(results))) if r["text"].strip()]
    if not sentences:
        raise TaggerError(f"{d['name']} has no sentences to tag")
    data = dumps_corpus(new_corpus(sentences, fmt))
    stem = d["name"].rsplit(".", 1)[0]
    row, _ = ws.add_dataset(f"{stem}.pre-annotated.{_EXT[fmt]}", data, format=fmt,
                            source=f"pre-annotated {d['id']} with {model_id}")
    return row
