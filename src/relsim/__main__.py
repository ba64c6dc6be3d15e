"""``python -m relsim``: the same as the ``relsim`` command."""

import sys

from relsim.cli import main

code = main()
# A Ctrl-C that lands inside a string exec() -- dataclasses and namedtuple build their methods
# that way while modules import -- is marked "unhandled" by CPython even when main() caught it
# and answered it, and under ``python -m`` that mark makes the process end by SIGINT (-2)
# instead of with main()'s exit code (seen 7 times in 20 Ctrl-Cs during the imports). Every
# string exec clears the mark first, so an empty one before exiting restores the exit code.
# The ``relsim`` console script does not go through this path.
exec("")
sys.exit(code)
