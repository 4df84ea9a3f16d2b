"""The core of the engine, importing nothing else of ``tagger``: the data
types (``Sentence``, ``Span``, ``Token``, ``Problem``, ``TaggerError``), the
units of a text and the projection between spans and unit tags
(``units``), and the one atomic file writer (``files``)."""
from tagger.core import files
from tagger.core.types import Problem, Sentence, Span, TaggerError, Token

__all__ = ["Problem", "Sentence", "Span", "TaggerError", "Token", "files"]
