"""A fresh clone has no ../shared/specs: the spec-using tests skip there, and CI's
REQUIRE_SPECS=1 turns that skip into a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST = "tests/workflows/test_definition.py::test_definition_validates_against_the_official_spec_schema"


def _run(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REQUIRE_SPECS", "PYTEST_XDIST_WORKER")}
    env.update(ZOOMSYNC_API_SPECS=str(tmp_path / "no-specs-here"), **extra)
    return subprocess.run(
        [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-rs"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_spec_test_skips_without_specs(tmp_path):
    result = _run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout, result.stdout
    assert "official API specs not found" in result.stdout


def test_spec_test_fails_without_specs_when_required(tmp_path):
    result = _run(tmp_path, REQUIRE_SPECS="1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout, result.stdout
    assert "REQUIRE_SPECS=1" in result.stdout


def test_readme_says_where_specs_and_rules_come_from():
    readme = (ROOT / "README.md").read_text()
    assert "../shared/SPEC.md)" not in readme  # a link a clone cannot follow
    assert "ZOOMSYNC_API_SPECS" in readme
    assert "HubSpot-public-api-spec-collection" in readme
