// `cpex plugins --discover DIR` and discoverNativePlugins: signed? loadable? A library whose
// signature fails is reported without being opened (its constructor's marker never appears).
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discoverNativePlugins, generateKeyPair, signFile } from '@cpex/host-native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBS } from './helpers.js';

const markerDir = mkdtempSync(path.join(os.tmpdir(), 'cpex-native-dmarker-'));
const previous = process.env.CPEX_NATIVE_MARKER_DIR;
beforeAll(() => {
  process.env.CPEX_NATIVE_MARKER_DIR = markerDir;
});
afterAll(() => {
  if (previous === undefined) delete process.env.CPEX_NATIVE_MARKER_DIR;
  else process.env.CPEX_NATIVE_MARKER_DIR = previous;
});

describe('discovery', { timeout: 60_000 }, () => {
  it('reports signature state and loadability per library; refused signatures are never opened', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cpex-native-discover-'));
    const key = generateKeyPair();
    const other = generateKeyPair();
    copyFileSync(LIBS['libcpex_probe.so'], path.join(dir, 'libgood.so'));
    writeFileSync(
      path.join(dir, 'libgood.so.sig'),
      signFile(path.join(dir, 'libgood.so'), key.privateKeyPem),
    );
    copyFileSync(LIBS['libcpex_probe.so'], path.join(dir, 'libforeign.so'));
    writeFileSync(
      path.join(dir, 'libforeign.so.sig'),
      signFile(path.join(dir, 'libforeign.so'), other.privateKeyPem),
    );
    copyFileSync(LIBS['libcpex_wrong_abi.so'], path.join(dir, 'libold.so'));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a library');
    const rows = await discoverNativePlugins(dir, { trustedKeys: [key.publicKeyBase64] });
    const by = Object.fromEntries(rows.map((r) => [path.basename(r.path), r]));
    expect(Object.keys(by)).toEqual(['libforeign.so', 'libgood.so', 'libold.so']);
    expect(by['libgood.so']).toMatchObject({
      signature: 'verified',
      loadable: true,
      manifest: { name: 'cpex-probe' },
    });
    expect(by['libforeign.so']).toMatchObject({ signature: 'invalid', loadable: false });
    expect(existsSync(path.join(markerDir, 'libforeign.so.loaded'))).toBe(false);
    expect(by['libold.so']).toMatchObject({
      signature: 'unsigned',
      loadable: false,
      error: { code: 'CPEX_ERR_NATIVE_ABI_MISMATCH' },
    });
  });
});
