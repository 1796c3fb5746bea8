"""Allow ``python -m sim``, the same as the ``sco-sim`` command."""

import sys

from sim.cli import main

sys.exit(main())
