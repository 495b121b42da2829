// `cpex routes` in-process through runCli: text and --json output on the routing example, usage errors.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../src/index.js';
import { capture as captureIn } from './capture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const config = 'examples/routing/config.yaml';
const capture = () => captureIn(repo);

describe('cpex routes', () => {
  it('explains the winning route, its score, the groups and the plugins by phase', async () => {
    const io = capture();
    expect(await runCli(['routes', config, '--tool', 'send_email'], io)).toBe(EXIT.ok);
    expect(io.stdout).toContain('route: #0 "send_email" score 1000 (exact name 1000)');
    expect(io.stdout).toContain('#1 "send_*": score 300 — glob 300');
    expect(io.stdout).toMatch(
      /#2 "\*" scope "internal": no match — scope "internal" ≠ request scope \(none\)/,
    );
    expect(io.stdout).toContain('groups: all, observability');
    expect(io.stdout).toContain(
      '2. sequential      pii (priority 10) ← route #0 override {"label":"strict"}',
    );
    expect(io.stdout).toContain('4. concurrent      ratelimit (priority 100) ← route #0');
  });

  it('--json with --scope and --tag', async () => {
    const io = capture();
    expect(
      await runCli(
        ['routes', config, '--tool', 'send_sms', '--scope', 'internal', '--tag', 'security', '--json'],
        io,
      ),
    ).toBe(EXIT.ok);
    const x = JSON.parse(io.stdout);
    expect(x.route).toMatchObject({ index: 1, score: 300 });
    expect(x.request).toEqual({
      entity_type: 'tool',
      entity_name: 'send_sms',
      scope: 'internal',
      tags: ['security'],
    });
    expect(x.hooks.tool_pre_invoke.sequential.map((p: { name: string }) => p.name)).toEqual(['authn', 'pii']);
  });

  it('needs exactly one entity flag (exit 2)', async () => {
    const none = capture();
    expect(await runCli(['routes', config], none)).toBe(EXIT.usage);
    expect(none.stderr).toContain('exactly one of --tool, --resource, --prompt, --llm');
    const two = capture();
    expect(await runCli(['routes', config, '--tool', 'a', '--llm', 'b'], two)).toBe(EXIT.usage);
  });

  it('a missing config is a config error (exit 1)', async () => {
    const io = capture();
    expect(await runCli(['routes', 'nope.yaml', '--tool', 'x'], io)).toBe(EXIT.config);
    expect(io.stderr).toContain('CPEX_ERR_CONFIG_READ');
  });
});
