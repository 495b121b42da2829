/**
 * Our WIT stays interface-identical to PR #65's world (contextforge-org/cpex commit 9dce96f,
 * crates/cpex-wasm-plugin/wit/world.wit): comments and whitespace removed, the text's sha256
 * must be the one of PR #65's file normalised the same way. The version is not in the name.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { componentImportNames, importProblem, WIT_DIR, WORLD_VERSION } from '../src/index.js';

const PR65_NORMALISED_SHA256 = '2a7c6369eab30e42c1c6c0c37ef4cbf84ed3d65f33a5459626a6baf338ab8857';

function normalise(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\/\/.*$/, ''))
    .join('')
    .replace(/\s+/g, '')
    .replace(/,}/g, '}');
}

describe('the cpex:plugin WIT', () => {
  const world = readFileSync(path.join(WIT_DIR, 'world.wit'), 'utf8');
  it('is interface-identical to PR #65', () => {
    expect(
      createHash('sha256')
        .update(`${normalise(world)}\n`)
        .digest('hex'),
    ).toBe(PR65_NORMALISED_SHA256);
  });
  it('carries its version outside the package name', () => {
    expect(world).toMatch(/^package cpex:plugin;$/m);
    expect(readFileSync(path.join(WIT_DIR, 'VERSION'), 'utf8').trim()).toBe(WORLD_VERSION);
  });
  it('accepts WASI 0.2 and the world, refuses the rest, naming why', () => {
    expect(importProblem('wasi:io/poll@0.2.6')).toBeUndefined();
    expect(importProblem('wasi:http/outgoing-handler@0.2.12')).toBeUndefined();
    expect(importProblem('cpex:plugin/host-logging')).toBeUndefined();
    expect(importProblem('wasi:io/poll@0.3.0')).toMatch(/not 0.2/);
    expect(importProblem('wasi:nn/graph@0.2.0')).toMatch(/not a WASI 0.2 interface/);
    expect(importProblem('cpex:plugin/host-logging@1.0.0')).toMatch(/carries no version/);
    expect(importProblem('evil:net/raw@1.0.0')).toMatch(/outside WASI 0.2/);
  });
  it('reads versioned import names from a component binary', async () => {
    const { parse } = await import('@bytecodealliance/jco-transpile/wasm-tools');
    const bytes = await parse(
      '(component (import "evil:net/raw@1.0.0" (instance)) (import "wasi:io/poll@0.2.6" (instance)))',
    );
    expect(componentImportNames(bytes)).toEqual(['evil:net/raw@1.0.0', 'wasi:io/poll@0.2.6']);
  });
});
