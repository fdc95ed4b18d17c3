"""`python -m cptkg`: the same command line as the `cptkg` script (cptkg.cli)."""

import sys

from cptkg.cli import main

sys.exit(main())
