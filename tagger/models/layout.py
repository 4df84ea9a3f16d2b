"""What a model directory holds, by name (no torch here: the CLI's parser
imports it): ``model.json`` (the description, written last), the data file
(``weights.pt``, or ``counts.json`` for an n-gram LM) and, while training,
``checkpoint.pt``."""
FORMAT_VERSION = 1
MODEL_JSON, WEIGHTS, CHECKPOINT, COUNTS = "model.json", "weights.pt", "checkpoint.pt", "counts.json"
