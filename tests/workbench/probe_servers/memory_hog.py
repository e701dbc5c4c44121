"""Allocates memory until the limit stops it (touching every page, so it is really used)."""

import sys

sys.stderr.write("probe-fixture: loading the model\n")
sys.stderr.flush()
chunks = []
while True:
    chunks.append(bytearray(16 * 1024 * 1024))
