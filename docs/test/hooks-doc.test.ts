// docs/hooks.md's "Built-in hooks" table against core: the hooks and families of the registry, and
// the payload and modified-payload types of BuiltinHookMap (read from its source with the
// TypeScript compiler API), which HookMap extends.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_HOOK_DEFINITIONS, type BuiltinHookMap, HookRegistry, type HookMap } from '@cpex/core';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO } from '../src/snippets.js';

// Compile-time: every built-in hook is a key of HookMap with BuiltinHookMap's types.
type Assert<T extends true> = T;
export type EveryBuiltinIsTyped = Assert<HookMap extends BuiltinHookMap ? true : false>;
export type NoUntypedBuiltin = Assert<
  Exclude<keyof BuiltinHookMap, keyof HookMap> extends never ? true : false
>;

interface Row {
  hook: string;
  family: string;
  payload: string;
  result: string;
}

/** The rows of the "Built-in hooks" table, one per hook name (a cell may list several). */
function docRows(): Row[] {
  const md = readFileSync(path.join(REPO, 'docs/hooks.md'), 'utf8');
  const section = md.slice(
    md.indexOf('## Built-in hooks'),
    md.indexOf('\n## ', md.indexOf('## Built-in hooks') + 1),
  );
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    const [hooks = '', family = '', payload = '', result = ''] = cells;
    const firstCode = (cell: string) => /^`([^`]+)`/.exec(cell)?.[1] ?? `(no type in "${cell}")`;
    for (const m of hooks.matchAll(/`([^`]+)`/g)) {
      rows.push({ hook: m[1] ?? '', family, payload: firstCode(payload), result: firstCode(result) });
    }
  }
  return rows;
}

/** hook → { payload, result } type texts of `interface BuiltinHookMap` in core's source. */
function builtinHookMapTypes(): Map<string, { payload: string; result: string }> {
  const file = path.join(REPO, 'packages/core/src/hooks/hook-map.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = new Map<string, { payload: string; result: string }>();
  const text = (n: ts.Node) =>
    n.getText(source).replace(/^P\./, '').replace(/\s+/g, ' ').replace(/,\s*>/, '>');
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== 'BuiltinHookMap') return;
    for (const m of node.members) {
      if (!ts.isPropertySignature(m) || !m.type || !ts.isTypeReferenceNode(m.type)) {
        throw new Error(`BuiltinHookMap: unexpected member ${m.getText(source)}`);
      }
      const name = ts.isStringLiteral(m.name) ? m.name.text : m.name.getText(source);
      const wrapper = m.type.typeName.getText(source);
      const [payload, result] = m.type.typeArguments ?? [];
      if (!payload || (wrapper !== 'Same' && wrapper !== 'Returns') || (wrapper === 'Returns' && !result)) {
        throw new Error(`BuiltinHookMap: ${name} is neither Same<T> nor Returns<T, R>`);
      }
      out.set(name, { payload: text(payload), result: text(result ?? payload) });
    }
  });
  return out;
}

describe('docs/hooks.md: built-in hooks', () => {
  const rows = docRows();
  const registry = new HookRegistry();
  const builtins = BUILTIN_HOOK_DEFINITIONS;

  it('lists every built-in hook of the registry exactly once, with its family', () => {
    expect(builtins.length).toBeGreaterThan(25);
    expect(
      registry
        .names()
        .filter((n) => registry.get(n)?.builtin)
        .sort(),
    ).toEqual(builtins.map((d) => d.name).sort());
    expect(rows.map((r) => r.hook).sort()).toEqual(builtins.map((d) => d.name).sort());
    for (const r of rows)
      expect({ hook: r.hook, family: r.family }).toEqual({
        hook: r.hook,
        family: registry.get(r.hook)?.family,
      });
  });

  it('names the payload and modified-payload types of BuiltinHookMap for each hook', () => {
    const types = builtinHookMapTypes();
    expect([...types.keys()].sort()).toEqual(builtins.map((d) => d.name).sort());
    for (const r of rows) {
      expect({ hook: r.hook, payload: r.payload, result: r.result }).toEqual({
        hook: r.hook,
        ...types.get(r.hook),
      });
    }
  });

  it('every built-in hook has a payload schema and a result schema', () => {
    for (const d of builtins)
      expect({ hook: d.name, payload: !!d.payloadSchema, result: !!d.resultSchema }).toEqual({
        hook: d.name,
        payload: true,
        result: true,
      });
  });
});
