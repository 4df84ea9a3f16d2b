"""Models: the recurrent layers (``layers``), the CRF, the tagger
(``tagger``: net and trained predictor) and the classifier (``classifier``),
vocabularies and tensor encoding, and one save/load for every model kind
with the registry of kinds (``saving``). Imports ``core``, the tokenizers
(at prediction) and torch; never corpus, scoring, training or lm."""
