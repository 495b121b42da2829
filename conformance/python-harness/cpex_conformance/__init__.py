"""Probe plugins of the cpex-ts conformance corpus's own scenarios (import root: conformance/python-harness)."""
