"""Measured-best defaults (see README, "Tokenizers and heads" table)."""
DEFAULT_TOKENIZER = "char"
