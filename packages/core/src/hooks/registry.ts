/**
 * `HookRegistry`: the hook names a manager knows, with their payload/result schemas. Preloaded
 * with every built-in hook; custom hooks can be defined at runtime (with an optional schema).
 * Any hook name works without a definition — a definition only adds ingress validation.
 */
import type { z } from 'zod';
import { CpexError } from '../errors/cpex-error.js';
import { formatPath } from '../errors/issue-path.js';
import {
  BUILTIN_HOOK_DEFINITIONS,
  type HookDefinition,
  type HookFamily,
  PAYLOAD_TYPE_GENERIC,
  type PayloadTypeId,
} from './builtin.js';

export interface CustomHookOptions {
  payloadSchema?: z.ZodType;
  resultSchema?: z.ZodType;
  /** Wire payload-type id (default 0, generic). */
  payloadType?: PayloadTypeId;
}

export type { HookDefinition, HookFamily };

export class HookRegistry {
  readonly #defs = new Map<string, HookDefinition>();

  constructor() {
    for (const d of BUILTIN_HOOK_DEFINITIONS) this.#defs.set(d.name, d);
  }

  /** True when `name` is a built-in hook or was defined. */
  has(name: string): boolean {
    return this.#defs.has(name);
  }

  /** The definition of `name`, or undefined for an unknown (still usable) hook. */
  get(name: string): HookDefinition | undefined {
    return this.#defs.get(name);
  }

  /** Every known hook name. */
  names(): string[] {
    return [...this.#defs.keys()];
  }

  /**
   * Defines (or redefines) a custom hook. Redefining a built-in hook is an error
   * (CPEX_ERR_INVALID_ARGUMENT).
   * @example manager.hooks.define('generation_pre_call', { payloadSchema: z.object({ prompt: z.string() }) });
   */
  define(name: string, options: CustomHookOptions = {}): HookDefinition {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `a hook name must be a non-empty string, got ${JSON.stringify(name)}`,
      );
    }
    const existing = this.#defs.get(name);
    if (existing?.builtin) {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `hook "${name}" is built in (${existing.family}) and cannot be redefined`,
        {
          hook: name,
        },
      );
    }
    const d: HookDefinition = Object.freeze({
      name,
      family: 'custom' as const,
      ...(options.payloadSchema ? { payloadSchema: options.payloadSchema } : {}),
      ...(options.resultSchema ? { resultSchema: options.resultSchema } : {}),
      payloadType: options.payloadType ?? PAYLOAD_TYPE_GENERIC,
      builtin: false,
    });
    this.#defs.set(name, d);
    return d;
  }

  /**
   * Validates `value` as the payload of hook `name` and returns the parsed value (unknown keys
   * dropped); hooks without a schema pass the value through. Throws CpexError
   * CPEX_ERR_INVALID_PAYLOAD naming the hook and the field path.
   * @example const payload = manager.hooks.validatePayload('tool_pre_invoke', JSON.parse(body));
   */
  validatePayload<T = unknown>(name: string, value: unknown): T {
    return check(name, this.#defs.get(name)?.payloadSchema, value, 'payload') as T;
  }

  /** Validates a plugin's modified payload for hook `name` (same rules as `validatePayload`). */
  validateResult<T = unknown>(name: string, value: unknown): T {
    return check(name, this.#defs.get(name)?.resultSchema, value, 'modified payload') as T;
  }

  /** The wire payload-type id of a hook (0 generic for unknown hooks). */
  payloadType(name: string): PayloadTypeId {
    return this.#defs.get(name)?.payloadType ?? PAYLOAD_TYPE_GENERIC;
  }
}

function check(hook: string, schema: z.ZodType | undefined, value: unknown, what: string): unknown {
  if (!schema) return value;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const first = issues[0];
  const path = first ? formatPath(first.path) : '(root)';
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
  throw new CpexError(
    'CPEX_ERR_INVALID_PAYLOAD',
    `invalid ${what} for hook ${hook} at ${path}: ${first?.message ?? 'does not match'}${more}`,
    {
      hook,
      path,
      details: { issues: issues.map((i) => ({ path: formatPath(i.path), message: i.message })) },
    },
  );
}
