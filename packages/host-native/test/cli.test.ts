// `cpex keygen` and `cpex sign` (contributed through @cpex/host-native/cli) run as the real
// cpex command, then `cpex invoke` loads the signed library under require_signature.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LIBS } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(repo, 'packages/cli/src/bin.ts');

function cpex(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@cpex/source', '--import', 'tsx', bin, ...args],
      { cwd: repo, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('cpex keygen / sign', { timeout: 120_000 }, () => {
  it('keygen writes a 0600 private key and a public key; sign writes <lib>.sig; invoke loads it under require_signature', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpex-native-cli-'));
    const help = await cpex('--help');
    expect(help.stdout).toContain('  keygen');
    expect(help.stdout).toContain('  sign');

    const prefix = path.join(dir, 'team');
    const kg = await cpex('keygen', '--out', prefix);
    expect(kg.code).toBe(0);
    expect(statSync(`${prefix}.key`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${prefix}.pub`, 'utf8')).toContain('BEGIN PUBLIC KEY');
    expect((await cpex('keygen', '--out', prefix)).code).toBe(1); // no silent overwrite

    const lib = path.join(dir, 'libsigned.so');
    copyFileSync(LIBS['libcpex_probe.so'], lib);
    const sg = await cpex('sign', lib, '--key', `${prefix}.key`);
    expect(sg.code).toBe(0);
    expect(readFileSync(`${lib}.sig`, 'utf8').trim()).toMatch(/^[A-Za-z0-9+/]+=*$/);

    const base64 = /base64:\s+(\S+)/.exec(kg.stdout)?.[1];
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      `plugin_settings:\n  require_signature: true\n  trusted_keys:\n    - ${base64}\nplugins:\n  - name: signed\n    kind: native://./libsigned.so\n    hooks: [tool_pre_invoke]\n    config: {metadata: {signed: true}}\n`,
    );
    const ok = await cpex('invoke', config, 'tool_pre_invoke', '--payload', '{"name":"t","args":{}}');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).metadata).toEqual({ signed: true });

    // One byte changed after signing: the same config is refused (exit 1, coded error).
    const bytes = readFileSync(lib);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    writeFileSync(lib, bytes);
    const bad = await cpex('invoke', config, 'tool_pre_invoke', '--payload', '{"name":"t","args":{}}');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('CPEX_ERR_SIGNATURE_INVALID');

    expect((await cpex('sign', lib)).code).toBe(2); // --key is required
  });
});
