"""Print the requirements pyproject.toml lists, one a line, for `pip install -r`.

    requirements.py [EXTRA ...]          runtime dependencies plus those extras
    requirements.py --only EXTRA [...]   only those extras (e.g. CI tools kept out of the project venv)
"""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
args = sys.argv[1:]
only = args[:1] == ["--only"]
extras = args[1:] if only else args
lines = [] if only else list(project["dependencies"])
for extra in extras:
    lines += project["optional-dependencies"][extra]
print("\n".join(lines))
