/**
 * @cpex/host-python — run existing Python cpex 0.1.x plugins, unchanged, out of process.
 *
 * Each plugin entry gets its own worker process(es) speaking NDJSON over stdio; the Python side
 * uses the installed `cpex` package when present, else the compatibility package shipped here.
 */
export { createPythonHost, registerPythonHost, PYTHON_KINDS } from './host.js';
export type { PythonHost, ManagerLike } from './host.js';
export type { PythonHostOptions } from './options.js';
export { PYTHON_PACKAGE_DIR, WORKER_SCRIPT } from './options.js';
export { PythonPlugin, PYTHON_HOST_CAPABILITIES } from './python-plugin.js';
export type { SlotState } from './python-plugin.js';
export type { WorkerHello } from './worker-process.js';
export { extensionsToPython, extensionsFromPython } from './python-shapes.js';
