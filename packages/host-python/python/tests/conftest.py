import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)  # packages/host-python/python
WORKER = os.path.join(PACKAGE_ROOT, "cpex_host", "worker.py")
FIXTURES = os.path.join(os.path.dirname(PACKAGE_ROOT), "test", "fixtures")
sys.path.insert(0, HERE)
