"""Models: the recurrent layers, the CRF, the tagger and classifier networks,
vocabularies and tensor encoding, and saving/loading every model kind as
plain JSON plus weights (``saving``). Imports ``core`` and torch."""
