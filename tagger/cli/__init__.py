"""``python -m tagger``: a thin shell over the API, one module per command
group (``tagging``, ``lm``, ``classify``, ``bench``) plus their shared
``_util``. This package is the dispatcher: each group adds its subparsers and
names its handlers; no command module imports it or a sibling. Results go to
stdout; progress, warnings and problems to stderr. Bad input exits 2 with a
one-line message, never a traceback."""
from __future__ import annotations

import argparse


def _groups():
    """The command modules, in the order their commands appear in ``--help``."""
    from tagger.cli import bench, classify, lm, tagging, tokenize
    return (tagging, tokenize, lm, classify, bench)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tagger", description="Korean sequence tagging engine")
    sub = p.add_subparsers(dest="command", required=True)
    for group in _groups():
        group.add_parsers(sub)
    return p


def main(argv=None) -> int:
    from tagger.cli._util import err
    from tagger.core import TaggerError
    from tagger.settings import debug
    args = build_parser().parse_args(argv)
    handler = {name: h for group in _groups() for name, h in group.HANDLERS.items()}[args.command]
    try:
        return handler(args)
    except TaggerError as e:
        err(f"error: {e}")
        return 2
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # an engine bug: one line, the traceback only on request
        if debug():
            raise
        err(f"internal error: {type(e).__name__}: {e} (set TAGGER_DEBUG=1 for the traceback)")
        return 1


__all__ = ["build_parser", "main"]
