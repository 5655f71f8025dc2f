"""``python -m bots`` is the ``studiobot`` command."""

from bots.cli import main

main()
