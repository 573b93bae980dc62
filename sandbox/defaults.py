"""The demo organisation's default seed and size, in a module that imports nothing.

Kept apart from seed.py (which pulls in the whole sandbox, Flask included) so that a command line
can show these defaults in its help without loading the sandbox.
"""

DEFAULT_SEED = 1
"""The random seed of the demo organisation."""
DEFAULT_SIZE = 3000
"""How many issues the demo organisation plans over the year."""
