"""Writes numbered lines to stderr (about 4 MB) before serving the normal server's tools: the output
limit cuts the stderr file short, and the server carries on."""

import sys
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).parent))
from normal import main  # noqa: E402

for number in range(100_000):
    try:
        sys.stderr.write(f"chatty line {number:06d} {'.' * 24}\n")
    except OSError:  # EFBIG: the file size limit
        break
try:
    sys.stderr.write("chatty: done\n")
    sys.stderr.flush()
except OSError:
    pass

if __name__ == "__main__":
    anyio.run(main)
