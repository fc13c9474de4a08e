"""`python -m inspector` is the same as the `robustness-inspector` command."""

import sys

from inspector.cli.main import main

sys.exit(main())
