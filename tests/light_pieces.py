"""Worker pieces from a module that imports nothing heavy: a worker's fork server preloads the
piece's module, so a piece defined in a test module would bring that module's imports."""

from __future__ import annotations

import sys


def pyarrow_imported() -> bool:
    return "pyarrow" in sys.modules
