"""Where the project's files live, resolved from the package location.

The package is installed editable from the repository, so the repository root is two levels
above this file. Everything that must survive a fresh clone (seeds, dbt project, expectation
suites) is found from here rather than from the current working directory.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DAGS_DIR = REPO_ROOT / "dags"
DATA_DIR = REPO_ROOT / ".data"
