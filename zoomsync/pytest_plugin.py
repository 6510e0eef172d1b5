"""Loaded with `-p` before Django settings are read: test-run environment defaults."""

import os

# The test suite is a development context: development secrets are allowed.
os.environ.setdefault("DEBUG", "1")
# The sandbox app is part of every test run (it is how "it syncs" is shown).
os.environ.setdefault("ZOOMSYNC_SANDBOX", "1")
