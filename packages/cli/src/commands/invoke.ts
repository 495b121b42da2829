import type { Extensions, GlobalContext } from '@cpex/core';
import { parseExtensions } from '@cpex/core/extensions';
import { checkPayloadBounds, type PayloadBounds, stringifyExact } from '@cpex/core/host';
import { parseCommandArgs, positionals, readJsonArg } from '../args.js';
import { type CliIo, EXIT, formatError, UsageError } from '../io.js';
import { loadConfigForCli } from '../load.js';
import { resultToWire } from '../wire.js';

export const invokeHelp = `Usage: cpex invoke <config> <hook> --payload <json|@file> [--context <json|@file>]
                   [--extensions <json|@file>] [--compact]

Load the config, initialize its plugins, run one hook through the 5-phase pipeline, wait for
fire-and-forget work, and print the PipelineResult as JSON with wire (snake_case) keys:
continue_processing, modified_payload, payload_modified, modified_extensions, violation, errors,
metadata, retry_delay_ms, context_table, background_errors.

Options:
  --payload <json|@file>     the hook payload (a JSON object; @path reads a file)
  --context <json|@file>     the global context: request_id, user, tenant_id, server_id,
                             content_type, user_context, state, metadata (snake_case or camelCase)
  --extensions <json|@file>  extensions (request, agent, http, security, ..., custom)
  --compact                  one-line JSON
  -h, --help                 show this help

Exit codes: 0 the call may proceed, 3 the pipeline halted (violation printed), 1 config or plugin
load error, 2 usage error (bad flag, unreadable or invalid JSON).`;

const CONTEXT_KEYS: Record<string, keyof GlobalContext> = {
  request_id: 'requestId',
  requestId: 'requestId',
  user: 'user',
  user_context: 'userContext',
  userContext: 'userContext',
  tenant_id: 'tenantId',
  tenantId: 'tenantId',
  server_id: 'serverId',
  serverId: 'serverId',
  content_type: 'contentType',
  contentType: 'contentType',
  state: 'state',
  metadata: 'metadata',
};

function toGlobalContext(raw: Record<string, unknown> | undefined): GlobalContext {
  const gc: Record<string, unknown> = {
    requestId: `cli-${process.pid}-${Date.now()}`,
    state: {},
    metadata: {},
  };
  for (const [k, v] of Object.entries(raw ?? {})) {
    const key = CONTEXT_KEYS[k];
    if (key === undefined) {
      const known = Object.keys(CONTEXT_KEYS).filter((x) => !/[A-Z]/.test(x));
      throw new UsageError(`--context: unknown key "${k}" (known: ${known.join(', ')})`);
    }
    gc[key] = v;
  }
  for (const k of ['state', 'metadata'] as const) {
    if (gc[k] === null || typeof gc[k] !== 'object' || Array.isArray(gc[k])) {
      throw new UsageError(`--context: ${k} must be an object`);
    }
  }
  if (typeof gc.requestId !== 'string') throw new UsageError('--context: request_id must be a string');
  return gc as unknown as GlobalContext;
}

export async function invokeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: pos } = parseCommandArgs('invoke', argv, {
    payload: { type: 'string' },
    context: { type: 'string' },
    extensions: { type: 'string' },
    compact: { type: 'boolean' },
  });
  if (values.help) {
    io.out(`${invokeHelp}\n`);
    return EXIT.ok;
  }
  const [configPath, hook] = positionals('invoke', pos, ['config', 'hook']) as [string, string];
  if (values.payload === undefined) throw new UsageError('cpex invoke: --payload <json|@file> is required');
  const payload = readJsonArg('payload', values.payload, io) as Record<string, unknown>;
  const context =
    values.context === undefined
      ? undefined
      : (readJsonArg('context', values.context, io) as Record<string, unknown>);
  const globalContext = toGlobalContext(context);
  const extensions =
    values.extensions === undefined
      ? undefined
      : (readJsonArg('extensions', values.extensions, io) as Extensions);

  let loaded: Awaited<ReturnType<typeof loadConfigForCli>> | undefined;
  try {
    loaded = await loadConfigForCli(configPath, io);
    await loaded.manager.initialize();
  } catch (e) {
    for (const line of formatError(e, io.cwd)) io.err(`${line}\n`);
    await loaded?.close();
    return EXIT.config;
  }
  const { manager } = loaded;
  // Inputs are parsed by V8's iterative JSON.parse; their depth (and the payload's size) are checked
  // against the loaded config's bounds before anything walks them.
  const bounds: PayloadBounds = {
    maxDepth: manager.settings.maxPayloadDepth,
    maxBytes: manager.settings.maxPayloadBytes,
  };
  try {
    checkPayloadBounds(payload, bounds, 'cpex invoke --payload');
    if (context !== undefined)
      checkPayloadBounds(context, { maxDepth: bounds.maxDepth }, 'cpex invoke --context');
    if (extensions !== undefined) {
      checkPayloadBounds(extensions, { maxDepth: bounds.maxDepth }, 'cpex invoke --extensions');
      // the schemas plugin output is judged by: a bad field is a usage error naming it
      parseExtensions(extensions, hook);
    }
  } catch (e) {
    for (const line of formatError(e, io.cwd)) io.err(`${line}\n`);
    await loaded.close();
    return EXIT.usage;
  }
  try {
    for (const w of [...new Set(loaded.warnings)]) io.err(`warning: ${w}\n`);
    if (!manager.hasHooksFor(hook)) io.err(`warning: no plugin in ${loaded.file} handles hook "${hook}"\n`);
    const result = await manager.invoke(hook, payload, {
      globalContext,
      ...(extensions !== undefined ? { extensions } : {}),
    });
    const backgroundErrors = await result.background.wait();
    const wire = resultToWire(result, backgroundErrors);
    // What plugins returned is printed: bound its depth first so JSON.stringify cannot overflow
    // (the wire envelope adds at most 3 levels: context_table → plugin → state).
    try {
      checkPayloadBounds(wire, { maxDepth: bounds.maxDepth + 3 }, 'cpex invoke result');
    } catch (e) {
      for (const line of formatError(e, io.cwd)) io.err(`${line}\n`);
      return EXIT.config; // a plugin's output, not the command line, is at fault
    }
    // Exact: a plugin's BigInt (a 64-bit integer a wire brought in) is printed as its literal.
    io.out(`${values.compact ? stringifyExact(wire) : stringifyExact(wire, 2)}\n`);
    return result.continueProcessing ? EXIT.ok : EXIT.halted;
  } catch (e) {
    for (const line of formatError(e, io.cwd)) io.err(`${line}\n`);
    const code = (e as { code?: string }).code;
    return code === 'CPEX_ERR_INVALID_PAYLOAD' ||
      code === 'CPEX_ERR_INVALID_ARGUMENT' ||
      code === 'CPEX_ERR_PAYLOAD_TOO_DEEP' ||
      code === 'CPEX_ERR_PAYLOAD_TOO_LARGE'
      ? EXIT.usage
      : EXIT.config;
  } finally {
    await loaded.close();
  }
}
