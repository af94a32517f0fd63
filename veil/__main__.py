"""``python -m veil``: the same program as the ``veil`` command."""

import sys

from veil.cli import main

if __name__ == "__main__":
    sys.exit(main())
