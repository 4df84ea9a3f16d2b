"""``python -m tagger bench``: training-speed (``train``) and prediction
(``predict``) benchmarks on the engine alone."""
