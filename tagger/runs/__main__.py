"""``python -m tagger.runs RUN_ID``: the body of one background run."""
import sys

from tagger.runs.control import main

sys.exit(main())
