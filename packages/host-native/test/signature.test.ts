// Detached ed25519 signatures are verified BEFORE dlopen. Proof: the probe library has a
// constructor that writes <CPEX_NATIVE_MARKER_DIR>/<basename>.loaded when it is opened; for a
// refused library (unsigned under require_signature, wrong key, one changed byte) it never appears.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PluginManager } from '@cpex/core';
import { generateKeyPair, parseTrustedKey, registerNativeHost, signFile } from '@cpex/host-native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gc, LIBS } from './helpers.js';

const markerDir = mkdtempSync(path.join(os.tmpdir(), 'cpex-native-marker-'));
const work = mkdtempSync(path.join(os.tmpdir(), 'cpex-native-sig-'));
const trusted = generateKeyPair();
const other = generateKeyPair();
const previous = process.env.CPEX_NATIVE_MARKER_DIR;

beforeAll(() => {
  process.env.CPEX_NATIVE_MARKER_DIR = markerDir;
});
afterAll(() => {
  if (previous === undefined) delete process.env.CPEX_NATIVE_MARKER_DIR;
  else process.env.CPEX_NATIVE_MARKER_DIR = previous;
});

/** A fresh copy of the probe under a unique basename (so its marker is its own). */
function library(name: string, sign?: 'trusted' | 'other'): string {
  const file = path.join(work, `lib${name}.so`);
  copyFileSync(LIBS['libcpex_probe.so'], file);
  if (sign)
    writeFileSync(`${file}.sig`, `${signFile(file, (sign === 'trusted' ? trusted : other).privateKeyPem)}\n`);
  return file;
}

const loaded = (file: string) => existsSync(path.join(markerDir, `${path.basename(file)}.loaded`));

async function load(file: string, settings: Record<string, unknown>, entry: Record<string, unknown> = {}) {
  const manager = new PluginManager();
  const host = registerNativeHost(manager);
  try {
    await manager.loadConfig({
      plugin_settings: settings,
      plugins: [
        {
          name: 'signed_probe',
          kind: `native://${file}`,
          hooks: ['tool_pre_invoke'],
          config: { metadata: { ok: 1 } },
          ...entry,
        },
      ],
    });
    await manager.initialize();
    const r = await manager.invoke('tool_pre_invoke', { name: 't', args: {} }, { globalContext: gc() });
    return { result: r, describe: manager };
  } finally {
    await manager.shutdown();
    await host.dispose();
  }
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  try {
    await promise;
  } catch (e) {
    const err = e as { code?: string; message: string; cause?: { code?: string } };
    return { code: err.code, message: `${err.message} ${(err.cause as Error | undefined)?.message ?? ''}` };
  }
  throw new Error('expected the load to be refused');
}

describe('signatures, verified before dlopen', () => {
  it('a library signed with a trusted key (PEM) loads and runs', async () => {
    const file = library('good', 'trusted');
    const { result } = await load(file, { trusted_keys: [trusted.publicKeyPem], require_signature: true });
    expect(result.metadata.ok).toBe(1);
    expect(loaded(file)).toBe(true);
  });

  it('trusted keys may also be the base64 of the raw 32-byte key', async () => {
    const file = library('goodb64', 'trusted');
    const { result } = await load(file, { trusted_keys: [trusted.publicKeyBase64], require_signature: true });
    expect(result.metadata.ok).toBe(1);
    expect(parseTrustedKey(trusted.publicKeyBase64, 'k').id).toBe(trusted.keyId);
  });

  it('unsigned + require_signature (settings): refused, never opened', async () => {
    const file = library('unsigned');
    const err = await refusal(load(file, { trusted_keys: [trusted.publicKeyPem], require_signature: true }));
    expect(err.message).toMatch(/CPEX_ERR_SIGNATURE_REQUIRED|require_signature/);
    expect(loaded(file)).toBe(false);
  });

  it('unsigned + require_signature on the entry only: refused, never opened', async () => {
    const file = library('unsigned_entry');
    const err = await refusal(
      load(file, { trusted_keys: [trusted.publicKeyPem] }, { require_signature: true }),
    );
    expect(err.message).toMatch(/require_signature/);
    expect(loaded(file)).toBe(false);
  });

  it('signed with a key that is not trusted: refused, never opened', async () => {
    const file = library('wrongkey', 'other');
    const err = await refusal(load(file, { trusted_keys: [trusted.publicKeyPem] }));
    expect(err.message).toMatch(/does not verify/);
    expect(loaded(file)).toBe(false);
  });

  it('one byte changed after signing: refused, never opened', async () => {
    const file = library('tampered', 'trusted');
    const bytes = readFileSync(file);
    // Flip a byte in the middle of the file (inside code or data, the loader would still accept it).
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    writeFileSync(file, bytes);
    const err = await refusal(load(file, { trusted_keys: [trusted.publicKeyPem], require_signature: true }));
    expect(err.message).toMatch(/does not verify/);
    expect(loaded(file)).toBe(false);
  });

  it('isolation: process checks before spawning: a tampered library never reaches the child', async () => {
    const file = library('tampered_proc', 'trusted');
    const bytes = readFileSync(file);
    bytes[200] = (bytes[200] ?? 0) ^ 0x01;
    writeFileSync(file, bytes);
    const err = await refusal(load(file, { trusted_keys: [trusted.publicKeyPem] }, { isolation: 'process' }));
    expect(err.message).toMatch(/does not verify/);
    expect(loaded(file)).toBe(false);
    // ... and a valid one loads in the child (its constructor ran there, writing the marker).
    const good = library('good_proc', 'trusted');
    const { result } = await load(
      good,
      { trusted_keys: [trusted.publicKeyPem], require_signature: true },
      { isolation: 'process' },
    );
    expect(result.metadata.ok).toBe(1);
    expect(loaded(good)).toBe(true);
  });

  it('a garbage signature file is refused even when signatures are optional', async () => {
    const file = library('badsig');
    writeFileSync(`${file}.sig`, 'not a signature');
    const err = await refusal(load(file, { trusted_keys: [trusted.publicKeyPem] }));
    expect(err.message).toMatch(/not a base64 ed25519 signature/);
    expect(loaded(file)).toBe(false);
  });

  it('without require_signature an unsigned library loads (signature state: unsigned)', async () => {
    const file = library('optional');
    const { result } = await load(file, { trusted_keys: [trusted.publicKeyPem] });
    expect(result.metadata.ok).toBe(1);
    expect(loaded(file)).toBe(true);
  });

  it('a malformed trusted key is a config error naming its position', async () => {
    const file = library('badkey', 'trusted');
    const err = await refusal(load(file, { trusted_keys: ['AAAA'] }));
    expect(err.message).toMatch(/trusted_keys\[0\]/);
    expect(loaded(file)).toBe(false);
  });
});
