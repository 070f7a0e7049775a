"""`python -m intermission_cli`: the same as the `intermission` command."""

import sys

from intermission_cli.main import main

sys.exit(main())
