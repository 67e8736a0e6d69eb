"""Test-wide glue: helpers shared across test folders (test/pixels.py) import by name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
