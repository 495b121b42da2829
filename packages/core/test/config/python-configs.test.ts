/**
 * "Every existing Python cpex config loads": real configs are loaded by the real Python cpex
 * 0.1.4 ConfigLoader (pip-installed in .venv) and by cpex-ts, and the plugin entries must agree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '@cpex/core';
import { describe, expect, it } from 'vitest';
import { isCI } from '../../../../scripts/lib/ci.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '../fixtures/python-configs');
const repo = path.resolve(here, '../../../..');
const python = process.env.CPEX_PYTHON ?? path.join(repo, '.venv/bin/python');
const hasPython = existsSync(python);
if (!hasPython && isCI())
  throw new Error(`CI: the reference interpreter ${python} is missing (run scripts/setup.sh)`);

const env = { ...process.env, CPEX_TEST_REDACTION: 'hash' };

function pythonLoad(file: string): { plugins: Array<Record<string, unknown>>; plugin_dirs: string[] } {
  const r = spawnSync(python, [path.join(here, '../fixtures/python-load-config.py'), file], {
    encoding: 'utf8',
    env,
  });
  if (r.status !== 0) throw new Error(`python ConfigLoader failed on ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.runIf(hasPython)(
  'every existing Python cpex config loads, with the same entries as Python cpex 0.1.4',
  () => {
    for (const f of readdirSync(fixtures).filter((x) => x.endsWith('.yaml'))) {
      it(`${f}: same plugins, kinds, hooks, modes (legacy rewritten), priorities, on_error, capabilities, conditions, config`, async () => {
        const file = path.join(fixtures, f);
        const ref = pythonLoad(file);
        const ours = await loadConfigFile(file, { env });
        // Python instantiates no `disabled` entry but its Config still lists it: compare all entries.
        expect(ours.entries.map((e) => e.name)).toEqual(ref.plugins.map((p) => p.name));
        for (const [i, e] of ours.entries.entries()) {
          const p = ref.plugins[i]!;
          expect({
            name: e.name,
            kind: e.kind,
            hooks: e.hooks,
            mode: e.mode,
            priority: e.priority,
            on_error: e.onError,
          }).toEqual({
            name: p.name,
            kind: p.kind,
            hooks: p.hooks,
            mode: p.mode,
            priority: p.priority,
            on_error: p.on_error,
          });
          expect([...e.capabilities].sort()).toEqual(p.capabilities);
          expect(e.config).toEqual(p.config);
          const conds = e.conditions.map((c) => {
            const d: Record<string, string[]> = {};
            const map = {
              serverIds: 'server_ids',
              tenantIds: 'tenant_ids',
              tools: 'tools',
              prompts: 'prompts',
              resources: 'resources',
              agents: 'agents',
              userPatterns: 'user_patterns',
              contentTypes: 'content_types',
            } as const;
            for (const [k, snake] of Object.entries(map)) {
              const v = c[k as keyof typeof c];
              if (v?.length) d[snake] = [...v].sort();
            }
            return d;
          });
          expect(conds).toEqual(p.conditions);
        }
        expect(ours.pluginDirs.map((d) => path.basename(d))).toEqual(
          ref.plugin_dirs.map((d) => path.basename(d)),
        );
      });
    }
  },
);
