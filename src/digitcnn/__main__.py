"""Run the command line: ``python -m digitcnn``."""

import sys

from digitcnn._cli import main

sys.exit(main())
