import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)  # packages/host-python/python
WORKER = os.path.join(PACKAGE_ROOT, "cpex_host", "worker.py")
FIXTURES = os.path.join(os.path.dirname(PACKAGE_ROOT), "test", "fixtures")
sys.path.insert(0, HERE)


def is_ci() -> bool:
    """The Python twin of scripts/lib/ci.mjs isCI() and common.sh is_ci: CI=true/1/yes."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def pytest_configure(config):
    # Tests that compare with the real cpex: run by the .venv pass; deselected (-m "not real_cpex")
    # in the python3 pass, which has only the bundled package.
    config.addinivalue_line("markers", "real_cpex: needs the real cpex 0.1.4 installed")
