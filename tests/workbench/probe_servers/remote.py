"""The normal server (three tools on two pages) over streamable HTTP: `python remote.py <port>` serves
http://127.0.0.1:<port>/mcp."""

import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).parent))
from normal import server  # noqa: E402

if __name__ == "__main__":
    uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
