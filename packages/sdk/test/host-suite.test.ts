// The PluginHost behaviour suite against the in-process host (every later host runs it too).
import { createInProcessHost } from '@cpex/core';
import { inProcessProbe, probePlugin, testHost } from '../src/testing/index.js';

await testHost({
  name: 'in-process',
  makeHost: () => createInProcessHost((entry) => probePlugin(entry.config, entry)),
  probe: inProcessProbe(),
});
