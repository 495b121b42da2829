// The PluginHost behaviour suite every host runs (@cpex/sdk/testing), driven through the
// Python host with a Python probe plugin (fixtures/hp_plugins/suite_probe.py).
import { createPythonHost } from '@cpex/host-python';
import { testHost } from '@cpex/sdk/testing';
import { fileURLToPath } from 'node:url';
import { FIXTURES, realCpexPython, shimPython } from './helpers.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

const python = shimPython() ?? realCpexPython();

if (python) {
  await testHost({
    name: 'python',
    makeHost: () => createPythonHost({ python, pythonPath: [FIXTURES] }),
    probe: {
      entry: (behaviour, hooks) => ({
        kind: 'hp_plugins.suite_probe.SuiteProbe',
        config: { behaviour, hooks: [...hooks] },
        ...(behaviour.kind === 'grow' ? { max_memory_mb: behaviour.limitMb } : {}),
      }),
      baseDir: FIXTURES,
    },
    testTimeoutMs: 30_000,
    docsRoot: REPO,
    // The fork server is shared by every Python host of the process and unref'd (it exits when idle).
    sharedProcess: (cmd) => cmd.includes('--zygote'),
  });
} else {
  const { it } = await import('vitest');
  it.skip('no Python interpreter with pydantic 2 (CI fails earlier in helpers)', () => {});
}
