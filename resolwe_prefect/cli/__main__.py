"""``python -m resolwe_prefect.cli``: the console script, for subprocesses started with this interpreter."""

import sys

from .main import main

sys.exit(main())
