/**
 * Discovery: what a search path holds. For each shared library in a directory: its signature
 * state (checked first, without opening it) and — only when the signature allows loading — its
 * manifest, read in a short-lived child process so a crashing constructor cannot take the
 * caller down.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@cpex/core/host';
import type { NativeManifest } from './abi.js';
import { ProcessNative } from './process-plugin.js';
import { checkSignature, parseTrustedKeys } from './signature.js';

/** One library found by `discoverNativePlugins`. */
export interface DiscoveredLibrary {
  path: string;
  /** 'verified' | 'unsigned' | 'not-required' | 'invalid' | 'missing' (required but absent). */
  signature: string;
  keyId?: string;
  /** True when the manifest was read and matches this host's ABI and interface hash. */
  loadable: boolean;
  manifest?: NativeManifest;
  /** Why it is not loadable (coded). */
  error?: { code: string; message: string };
}

const LIB = /\.(so|dylib|dll)(\.\d+)*$/;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Lists the native plugin libraries in `dir` (not recursive), whether each is signed by a
 * trusted key and whether it is loadable (ABI version and interface hash checked in a child).
 * @example
 * for (const lib of await discoverNativePlugins('./plugins', { trustedKeys: [pem] })) console.log(lib.path, lib.loadable);
 */
export async function discoverNativePlugins(
  dir: string,
  options: { trustedKeys?: string[]; requireSignature?: boolean; startTimeoutMs?: number } = {},
): Promise<DiscoveredLibrary[]> {
  const keys = parseTrustedKeys(options.trustedKeys ?? []);
  const files = readdirSync(dir)
    .filter((f) => LIB.test(f))
    .map((f) => path.resolve(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
  const out: DiscoveredLibrary[] = [];
  for (const file of files) {
    const row: DiscoveredLibrary = { path: file, signature: 'unsigned', loadable: false };
    try {
      const s = checkSignature(file, keys, options.requireSignature === true);
      row.signature = s.state;
      if (s.keyId) row.keyId = s.keyId;
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'CPEX_ERR_SIGNATURE_INVALID';
      row.signature = code === 'CPEX_ERR_SIGNATURE_REQUIRED' ? 'missing' : 'invalid';
      row.error = { code, message: (e as Error).message };
      out.push(row);
      continue; // never opened
    }
    const probe = new ProcessNative({
      pluginName: path.basename(file),
      libraryPath: file,
      config: null,
      maxPayloadBytes: 1_000_000,
      maxPayloadDepth: 64,
      payloadTypeOf: () => 0,
      shutdownTimeoutMs: 2_000,
      timeoutMs: 5_000,
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
      maxRestarts: 0,
      restartWindowMs: 1,
      logger: quiet,
      asyncStackBytes: undefined,
      manifestOnly: true,
    });
    try {
      row.manifest = await probe.start();
      row.loadable = true;
    } catch (e) {
      row.error = {
        code: (e as { code?: string }).code ?? 'CPEX_ERR_PLUGIN_LOAD',
        message: (e as Error).message,
      };
    } finally {
      await probe.shutdown().catch(() => {});
    }
    out.push(row);
  }
  return out;
}
