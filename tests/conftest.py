"""Fixtures shared by every test module."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = PROJECT_ROOT.parent / "shared" / "bench"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    """The shared benchmark data, read where it is (never copied into the project)."""
    if not BENCH_DIR.is_dir():
        pytest.skip("../shared/bench is not beside the project")
    return BENCH_DIR
