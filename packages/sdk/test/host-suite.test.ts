// The PluginHost behaviour suite against the in-process host (every later host runs it too), both
// with plugin objects handed to the host directly and with probe modules loaded through node://.
import { fileURLToPath } from 'node:url';
import { createInProcessHost, IN_PROCESS_HOST_CAPABILITIES } from '@cpex/core/host';
import { type PluginHost, PluginManager } from '@cpex/core';
import { inProcessProbe, probePlugin, testHost } from '../src/testing/index.js';

const docsRoot = fileURLToPath(new URL('../../..', import.meta.url));

await testHost({
  name: 'in-process',
  makeHost: () => createInProcessHost((entry) => probePlugin(entry.config, entry)),
  probe: inProcessProbe(),
  docsRoot,
});

await testHost({
  name: 'in-process via node:// modules',
  makeHost: (): PluginHost => ({
    name: 'node-module',
    capabilities: IN_PROCESS_HOST_CAPABILITIES,
    kinds: ['node://'],
    // The manager's own node:// factory (core registers it for the scheme).
    factory: new PluginManager().resolveFactory('node://probe'),
    async dispose() {},
  }),
  probe: inProcessProbe('node://'),
  docsRoot,
});
