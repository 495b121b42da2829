// Runs the quickstart gateway as a real process (as `pnpm demo` does) and checks its decisions.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const main = path.join(repo, 'examples/quickstart/src/main.ts');

function gateway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@cpex/source', '--import', 'tsx', main, ...args],
      { cwd: repo, env: { ...process.env, INIT_CWD: repo }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface Line {
  seq: number;
  user: string;
  tool: string;
  decision: string;
  violation: { code: string; plugin_name: string } | null;
  modified_payload: { args?: Record<string, unknown>; result?: Record<string, unknown> } | null;
  retry_delay_ms: number;
}

describe('quickstart gateway', { timeout: 90_000 }, () => {
  it('--json: every sample call gets the decision its plugins make', async () => {
    const r = await gateway('--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const calls = lines.slice(0, -1) as Line[];
    expect(calls.map((c) => `${c.seq}:${c.user}:${c.tool}:${c.decision}`)).toEqual([
      '1:alice:search:allow',
      '2:alice:send_email:modify',
      '3:bob:delete_database:deny',
      '4:dave:get_user:modify',
      '5:carol:get_weather:allow',
      '6:carol:get_weather:allow',
      '7:carol:get_weather:allow',
      '8:carol:get_weather:deny',
      '9:eve:shell_exec:deny',
      '10:alice:get_user:modify',
    ]);
    expect(calls[1]?.modified_payload?.args).toEqual({ to: '[EMAIL]', body: 'Call me at [PHONE]' });
    expect(calls[2]?.violation).toMatchObject({ code: 'tool_not_allowed', plugin_name: 'tool-allow-list' });
    expect(calls[3]?.modified_payload?.args).toEqual({ ssn: '[SSN]' });
    expect(calls[7]?.violation).toMatchObject({ code: 'rate_limited', plugin_name: 'rate-limiter' });
    expect(calls[7]?.retry_delay_ms).toBeGreaterThan(0);
    expect(calls[9]?.modified_payload?.result).toEqual({ email: '[EMAIL]', phone: '[PHONE]' });
    // Telemetry (fire_and_forget) ran for every tool_pre_invoke call, denied ones included.
    expect(lines.at(-1)).toEqual({
      summary: { calls: 10, allow: 4, modify: 3, deny: 3, telemetry_events: 9 },
    });
  });

  it('`pnpm demo --json` (as the README writes it) prints only JSON on stdout: no pnpm banner', async () => {
    for (const cwd of [repo, path.join(repo, 'docs')]) {
      const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          'pnpm',
          ['demo', '--json'],
          { cwd, env: { ...process.env, INIT_CWD: undefined }, timeout: 60_000 },
          (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
        );
      });
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(11);
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
      expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '')).toHaveProperty('summary.calls', 10);
    }
  });

  it('prints readable decisions by default', async () => {
    const r = await gateway();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sequential: tool-allow-list | transform: pii-redactor | audit: audit-logger');
    expect(r.stdout).toMatch(/3\. bob +→ delete_database .*\n +DENY +tool-allow-list: tool_not_allowed/);
    expect(r.stdout).toMatch(/MODIFY +redacted email, phone → \{"to":"\[EMAIL\]"/);
    expect(r.stdout).toContain('10 calls: 4 allowed, 3 modified, 3 denied; 9 telemetry events');
  });

  it('--config runs another config through the same gateway', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpex-quickstart-'));
    const plugins = path.join(repo, 'examples/quickstart/src/plugins');
    writeFileSync(
      path.join(dir, 'open.yaml'),
      [
        'plugins:',
        '  - name: everything-allowed',
        `    kind: node://${path.join(plugins, 'tool-allow-list.ts')}`,
        '    hooks: [tool_pre_invoke]',
        '    config: { tools: [search, send_email, delete_database, get_user, get_weather, shell_exec] }',
      ].join('\n'),
    );
    try {
      const r = await gateway('--json', '--config', path.join(dir, 'open.yaml'));
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      expect(summary).toEqual({ summary: { calls: 10, allow: 10, modify: 0, deny: 0, telemetry_events: 0 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--config examples/python-plugin/config.yaml runs Python plugins through the same gateway', async () => {
    const r = await gateway('--json', '--config', 'examples/python-plugin/config.yaml');
    expect(r.code).toBe(0);
    const calls = r.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l) as Line);
    expect(calls[2]).toMatchObject({ tool: 'delete_database', decision: 'deny' });
    expect(calls[2]?.violation?.plugin_name).toBe('python-deny-list');
    expect(calls[1]?.decision).toBe('modify');
    expect(calls[1]?.modified_payload?.args?.to).toBe('[EMAIL]');
  });

  it('--config examples/native-plugin/config.yaml builds and runs the Rust native plugin', async () => {
    const r = await gateway('--json', '--config', 'examples/native-plugin/config.yaml');
    expect(r.code).toBe(0);
    const calls = r.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l) as Line);
    expect(calls[2]).toMatchObject({ tool: 'delete_database', decision: 'deny' });
    expect(calls[2]?.violation?.plugin_name).toBe('rust-tool-guard');
    expect(calls.filter((c) => c.decision === 'deny').map((c) => c.tool)).toEqual([
      'delete_database',
      'shell_exec',
    ]);
  });

  it('a broken config or a bad flag exits 1 with a coded error', async () => {
    const r = await gateway('--config', 'examples/quickstart/no-such.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error CPEX_ERR_CONFIG_READ/);
    const f = await gateway('--frob');
    expect(f.code).toBe(1);
    expect(f.stderr).toContain("Unknown option '--frob'");
  });
});
