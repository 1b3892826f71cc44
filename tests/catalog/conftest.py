"""Fixtures for the catalog tests: a copy of the valid fixture course that each test may break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

VALID_ROOT = Path(__file__).parent / "fixtures" / "valid"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A writable copy of the valid content root (its course folder is `rights-basics`)."""
    root = tmp_path / "content"
    shutil.copytree(VALID_ROOT, root)
    return root
