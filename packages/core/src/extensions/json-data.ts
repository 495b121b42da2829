/**
 * What JSON carries exactly: the check extension data passes before it can reach a plugin in
 * another language — the caller's `extensions.custom` at ingress (ingress.ts) and a plugin's
 * returned `modifiedExtensions.custom` (gate.ts mergeExtensions).
 */
import { loneSurrogate } from '../config/plain.js';

interface Visit {
  v: unknown;
  parent: Visit | undefined;
  key: string | number;
}

/** `.a[0].b` for a visit, from its parents (built only for a refusal). */
function pathOf(n: Visit): string {
  const parts: string[] = [];
  for (let x: Visit | undefined = n; x?.parent !== undefined; x = x.parent)
    parts.push(typeof x.key === 'number' ? `[${x.key}]` : `.${x.key}`);
  return parts.reverse().join('');
}

/**
 * Where `root` holds what JSON cannot carry exactly to a plugin in another language, and why:
 * NaN/±Infinity (JSON writes null), a BigInt, a function or symbol, undefined in a list, a string
 * with a lone surrogate, a Date/Map/class instance (JSON writes something else), a cycle.
 * Iterative, any depth (an in-process caller may nest deeper than any wire allows).
 */
export function notJsonData(root: unknown): { path: string; message: string } | undefined {
  const onPath = new Set<object>();
  const stack: Array<Visit | { leave: object }> = [{ v: root, parent: undefined, key: '' }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if ('leave' in top) {
      onPath.delete(top.leave);
      continue;
    }
    const { v } = top;
    const refuse = (message: string) => ({ path: pathOf(top), message });
    switch (typeof v) {
      case 'number':
        if (!Number.isFinite(v))
          return refuse(`expected a finite number (JSON has no NaN or Infinity), got ${v}`);
        continue;
      case 'bigint':
        return refuse(`the BigInt ${v} is not JSON data (send it as a string)`);
      case 'string':
        if (loneSurrogate(v) >= 0) return refuse('the string has a lone surrogate: not valid Unicode text');
        continue;
      case 'undefined':
        if (top.parent !== undefined && Array.isArray(top.parent.v))
          return refuse('undefined in a list is not JSON data (JSON writes null)');
        continue;
      case 'function':
      case 'symbol':
        return refuse(`a ${typeof v} is not extension data`);
      case 'boolean':
        continue;
    }
    if (v === null) continue;
    const o = v as object;
    const isArray = Array.isArray(o);
    const proto = isArray ? null : Object.getPrototypeOf(o);
    if (!isArray && proto !== Object.prototype && proto !== null)
      return refuse(
        `${Object.prototype.toString.call(o).slice(8, -1)} is not extension data (give plain objects, arrays, strings, numbers, booleans or null)`,
      );
    if (onPath.has(o)) return refuse('the value contains itself (a cycle)');
    onPath.add(o);
    stack.push({ leave: o });
    if (isArray) {
      const a = o as unknown[];
      for (let i = a.length - 1; i >= 0; i--) stack.push({ v: a[i], parent: top, key: i });
    } else {
      const r = o as Record<string, unknown>;
      const keys = Object.keys(r);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ v: r[keys[i]!], parent: top, key: keys[i]! });
    }
  }
  return undefined;
}
