"""Training: the epoch loop, its callbacks, ``TrainConfig`` and the dev
split (``loop``), the tagger's training and resuming (``tagger``), the
classifier's (``classifier``), and silver POS corpora (``silver``). Never
imports the language models: the LM transfer comes in as ``init``.
Named ``training`` so that it never shadows the function ``tagger.train``."""
