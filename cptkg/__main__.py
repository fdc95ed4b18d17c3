import sys

from cptkg.cli import main

sys.exit(main())
