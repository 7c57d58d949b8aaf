"""``python -m takt.cli``: the same as the ``takt`` command (the tests start the node this way)."""
from takt.cli.main import main

main()
