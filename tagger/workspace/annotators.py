"""Per-reviewer views of a dataset, for two (or more) reviewers annotating it
independently, in *blind* mode: a reviewer sees the corpus's original spans
and their own corrections, never anyone else's.

A reviewer's *annotation* of a sentence exists when their own latest status
of it is ``accepted`` or ``corrected``: it is their own latest correction if
they have one, else the corpus's original spans (what blind mode showed them
when they accepted). Skipped, reset or untouched sentences have none, and
a correction saved without a status is not a review. Adjudicated versions are
no reviewer's annotation (``tagger.workspace.agreement``)."""
from __future__ import annotations

from typing import Optional

from tagger.core import Span
from tagger.workspace.status import clean_reviewer, reviewer_counts, statuses
from tagger.workspace.store import Workspace

ANNOTATED = ("accepted", "corrected")  # a reviewer's own statuses that make an annotation


def blind_spans(ws: Workspace, dataset_id, reviewer: Optional[str]) -> list[list[Span]]:
    """Per sentence, what ``reviewer`` sees in blind mode: their own latest
    correction if any, else the corpus's original spans."""
    did = ws.dataset(dataset_id)["id"]
    own = ws.corrections(did, clean_reviewer(reviewer))
    return [sorted(own[i]) if i in own else sorted(s.spans) for i, s in enumerate(ws.corpus(did).sentences)]


def spans_for(ws: Workspace, dataset_id, index: int, reviewer: Optional[str], blind: bool = True) -> list[Span]:
    """The spans the Review page shows ``reviewer`` for sentence ``index``:
    in blind mode the original spans or their own correction (``blind_spans``);
    otherwise the current ones (adjudicated, else the latest correction by anyone)."""
    did, index = ws.sentence(dataset_id, index)
    if not blind:
        return sorted(ws.corpus(did, corrected=True).sentences[index].spans)
    return blind_spans(ws, did, reviewer)[index]


def annotations(ws: Workspace, dataset_id, reviewer: Optional[str]) -> dict[int, list[Span]]:
    """``{index: spans}`` of every sentence ``reviewer`` annotated (see the
    module's docstring); the sentences they have not reviewed are left out."""
    did = ws.dataset(dataset_id)["id"]
    who = clean_reviewer(reviewer)
    mine = statuses(ws, did, who)
    seen = blind_spans(ws, did, who)
    return {i: seen[i] for i in sorted(mine) if mine[i]["status"] in ANNOTATED}


def reviewers(ws: Workspace, dataset_id) -> dict[str, dict]:
    """``{reviewer: {"accepted", "corrected", "skipped", "annotated"}}``: who
    reviewed the dataset, their own latest status counts and the indices of
    the sentences they annotated, by name."""
    did = ws.dataset(dataset_id)["id"]
    return {name: {**counts, "annotated": sorted(annotations(ws, did, name))}
            for name, counts in reviewer_counts(ws, did).items()}
