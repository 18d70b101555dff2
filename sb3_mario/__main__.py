"""``python -m sb3_mario``: the ``sb3-mario`` command line."""

import sys

from sb3_mario.cli import main

sys.exit(main())
