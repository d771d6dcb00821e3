"""``python -m alexnet``: summarise or validate spec files (see ``--help``)."""

import sys

from .cli import main

sys.exit(main())
