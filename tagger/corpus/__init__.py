"""Corpora: reading every supported format (``formats``, detected by
``load``), writing them back byte for byte (``write``), tag schemes
(``tags``), validation with ``PATH:LINE`` problems (``validate``), doccano JSONL and
Label Studio JSON (``doccano``, ``labelstudio``, behind ``jsonformats``; the
offsets rule in ``interchange``) and the KoNLPy sample text (``konlpy_text``). Imports only ``core`` and ``settings``."""
