"""``python -m dvzero.cli``: the ``dvzero`` command."""

import sys

from . import main

sys.exit(main())
