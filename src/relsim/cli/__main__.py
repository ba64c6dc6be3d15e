"""``python -m relsim.cli``: the same as the ``relsim`` command."""

import sys

from relsim.cli import entry

sys.exit(entry())
