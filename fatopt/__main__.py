"""``python -m fatopt``: the same as the ``fatopt`` command."""

import sys

from fatopt.cli import main

if __name__ == "__main__":
    sys.exit(main())
