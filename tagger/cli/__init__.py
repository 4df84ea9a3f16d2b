"""``python -m tagger``: the command line, one module per command group plus
their shared ``_util``."""
