"""Plugin-author API of Python cpex 0.1.x, shipped with @cpex/host-python.

This package is a compatibility layer: it is only imported when the real ``cpex``
distribution is not installed in the worker's interpreter (the host appends this
directory to the END of ``sys.path``, so an installed ``cpex`` always wins).
It provides the modules a plugin imports, not the Python PluginManager: plugins are
scheduled by cpex-ts.
"""

__version__ = "0.1.4+cpex-ts"
CPEX_TS_SHIM = True
