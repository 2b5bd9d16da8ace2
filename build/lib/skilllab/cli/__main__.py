"""``python -m skilllab.cli``: the same as ``skilllab``."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
