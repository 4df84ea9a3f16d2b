"""Background runs: start, list, cancel and resume (``control``), the body
of a run process (``worker``, started as ``python -m tagger.runs RUN_ID``)
and what each task kind trains (``tasks``)."""
