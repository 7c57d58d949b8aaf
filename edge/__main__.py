"""``python -m edge``: the same as the ``takt`` command."""
from edge.cli import main

main()
