"""Dies before speaking MCP: a message on stderr, exit code 3."""

import sys

sys.stderr.write("probe-fixture: cannot start, configuration file /etc/notes.toml is missing\n")
sys.exit(3)
