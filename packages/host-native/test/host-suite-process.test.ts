// The PluginHost behaviour suite, isolation: process — the same C probe in a supervised child.
import { createNativeHost } from '@cpex/host-native';
import { nativeProbe } from '@cpex/host-native/testing';
import { testHost } from '@cpex/sdk/testing';
import { LIBS, REPO } from './helpers.js';

await testHost({
  name: 'native (isolation: process)',
  makeHost: () => createNativeHost({ isolation: 'process' }),
  probe: nativeProbe(LIBS['libcpex_probe.so'], {}, 'process'),
  docsRoot: REPO,
  testTimeoutMs: 30_000,
});
