"""The workspace: a SQLite catalogue plus the files it names (``store``),
and one module per domain noun on top of it: datasets, models, evaluation,
review, annotate (export, pre-annotation), language models, classifiers."""
