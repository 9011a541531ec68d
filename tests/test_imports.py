"""Every feature package can be imported first: gunicorn and `flask` import the app in their
own order, and a cycle between two features' modules only shows in the order that meets it
(a worker that fails to boot, while the suite, importing in another order, stays green)."""

import subprocess
import sys
from pathlib import Path

import pytest

import portal

FEATURES = sorted(
    path.parent.name
    for path in Path(portal.__file__).parent.glob("*/__init__.py")
    if (path.parent / "views").is_dir()
)


@pytest.mark.parametrize("feature", FEATURES)
def test_a_feature_package_imported_first_loads_the_whole_app(feature):
    code = f"import portal.{feature}; from portal import create_app; create_app()"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
