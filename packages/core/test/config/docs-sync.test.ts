/** The error catalogue, docs/errors.md, docs/config.schema.json and the code stay in sync. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CATALOGUE, MANAGER_VIOLATION_CODES } from '@cpex/core';
import { describe, expect, it } from 'vitest';
import { configSchemaText, DOCS_DIR, errorsTable, withGenerated } from '../../scripts/gen-docs.js';

const repo = path.resolve(DOCS_DIR, '..');

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    if (f === 'node_modules' || f === 'dist' || f.startsWith('.')) continue;
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|py)$/.test(f) && !/\.test(-d)?\.ts$/.test(f)) out.push(p);
  }
  return out;
}

describe('docs stay current (run `pnpm gen:docs` after changing the schema or the catalogue)', () => {
  it('docs/config.schema.json is generated from the zod config schema', () => {
    expect(readFileSync(path.join(DOCS_DIR, 'config.schema.json'), 'utf8')).toBe(configSchemaText());
  });

  it('docs/errors.md lists exactly the catalogue, with the same summaries', () => {
    const doc = readFileSync(path.join(DOCS_DIR, 'errors.md'), 'utf8');
    expect(doc).toBe(withGenerated(doc, errorsTable()));
    const documented = new Set([...doc.matchAll(/`(CPEX_ERR_[A-Z_]+)`/g)].map((m) => m[1]));
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    for (const code of Object.keys(MANAGER_VIOLATION_CODES)) expect(doc).toContain(`\`${code}\``);
  });

  it('every CPEX_ERR_* code the docs and READMEs mention is in the catalogue', () => {
    const mentioned = new Map<string, string>();
    const docs = (dir: string, out: string[] = []): string[] => {
      for (const f of readdirSync(dir)) {
        if (f === 'node_modules' || f === 'dist' || f.startsWith('.')) continue;
        const p = path.join(dir, f);
        if (statSync(p).isDirectory()) docs(p, out);
        else if (f.endsWith('.md')) out.push(p);
      }
      return out;
    };
    const files = [
      ...docs(DOCS_DIR),
      ...docs(path.join(repo, 'packages')),
      ...docs(path.join(repo, 'examples')),
      path.join(repo, 'README.md'),
    ];
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bCPEX_ERR_[A-Z]{2}[A-Z_]*\b/g)) {
        if (!mentioned.has(m[0])) mentioned.set(m[0], path.relative(repo, f));
      }
    }
    // `CPEX_ERR_CONFIG_*` style prefixes must name at least one code
    const known = (c: string) =>
      c.endsWith('_') ? Object.keys(ERROR_CATALOGUE).some((k) => k.startsWith(c)) : c in ERROR_CATALOGUE;
    const unknown = [...mentioned].filter(([c]) => !known(c)).map(([c, f]) => `${c} (${f})`);
    expect(unknown).toEqual([]);
    expect(mentioned.size).toBeGreaterThan(10);
  });

  it('every CPEX_ERR_* code used anywhere in the packages is in the catalogue', () => {
    const used = new Set<string>();
    for (const f of sourceFiles(path.join(repo, 'packages'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bCPEX_ERR_[A-Z]{2}[A-Z_]*\b/g)) used.add(m[0]);
    }
    const unknown = [...used].filter((c) => !(c in ERROR_CATALOGUE));
    expect(unknown).toEqual([]);
  });
});
