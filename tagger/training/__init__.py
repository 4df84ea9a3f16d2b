"""Training: the epoch loop and its callbacks (``loop``), the tagger's
training (``tagger``), the classifier's, and silver POS corpora (``silver``).
Named ``training`` so that it never shadows the function ``tagger.train``."""
