"""``python -m netwarden`` is the ``netwarden`` command."""

import sys

from netwarden.entrypoints.cli import main

sys.exit(main())
