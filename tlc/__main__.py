"""``python -m tlc``: the same as the ``tlc`` command."""

import sys

from tlc.cli import main

sys.exit(main())
