"""``python -m loadtests``: see :mod:`loadtests.runner`."""

from __future__ import annotations

import sys

from loadtests.runner import main

if __name__ == "__main__":
    sys.exit(main())
