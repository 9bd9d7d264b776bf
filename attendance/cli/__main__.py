"""``python -m attendance.cli``: the ``attendance`` command (``serve`` starts the scheduler so)."""

import sys

from attendance.cli import main

sys.exit(main())
