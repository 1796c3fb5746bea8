"""Allow ``python -m sim.cli``, the same as ``python -m sim`` and the ``sco-sim`` command."""

import sys

from sim.cli import main

sys.exit(main())
