// The quickstart gateway: loads a plugin config, pushes a stream of sample tool calls through the
// CPEX pipeline and prints each decision. `--json` prints one JSON line per call instead.
//
//   pnpm demo                                  # examples/quickstart/config.yaml
//   pnpm demo --json
//   pnpm demo --config examples/python-plugin/config.yaml
//   pnpm demo --config examples/wasm-plugin/config.yaml
import { spawnSync } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ConfigError,
  CpexError,
  type GlobalContext,
  type PipelineResult,
  type PluginErrorRecord,
  PluginManager,
} from '@cpex/core';
import { TELEMETRY_CHANNEL } from './plugins/telemetry.js';
import { SAMPLE_CALLS, type SampleCall } from './samples.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const DEFAULT_CONFIG = path.resolve(here, '../config.yaml');

const HELP = `Usage: pnpm demo [--config <path>] [--json]

Runs the quickstart gateway: loads a CPEX plugin config (default examples/quickstart/config.yaml),
sends ${SAMPLE_CALLS.length} sample tool calls through it and prints each decision.

  --config <path>  another plugin config (e.g. examples/python-plugin/config.yaml)
  --json           one JSON object per call (and a final summary line)
  -h, --help       this help`;

type Decision = 'allow' | 'modify' | 'deny';

interface CallReport {
  seq: number;
  user: string;
  hook: string;
  tool: string;
  decision: Decision;
  plugin: string | null;
  violation: { code: string; reason: string; plugin_name: string | null } | null;
  modified_payload: unknown;
  metadata: Record<string, unknown>;
  retry_delay_ms: number;
  errors: Array<{ plugin_name: string; code: string; message: string }>;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function describeError(e: unknown): string {
  if (e instanceof ConfigError && e.issues.length > 0) {
    return e.issues
      .map((i) => `error ${e.code} at ${i.path}: ${i.message}${e.file ? ` (file ${e.file})` : ''}`)
      .join('\n');
  }
  if (e instanceof CpexError) return `error ${e.code}: ${e.message}`;
  return `error: ${e instanceof Error ? e.message : String(e)}`;
}

/** WASM plugins need @cpex/host-wasm; register it only when the config has some. */
async function registerWasmFor(
  manager: PluginManager,
  kinds: string[],
): Promise<(() => Promise<void>) | undefined> {
  if (!kinds.some((k) => k.startsWith('wasm://'))) return undefined;
  let mod: {
    registerWasmHost?: (m: PluginManager, o?: { cacheDir?: string }) => { dispose(): Promise<void> };
  };
  try {
    mod = await import('@cpex/host-wasm');
  } catch (e) {
    fail(
      `This config has WASM plugins, but @cpex/host-wasm could not be loaded: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (typeof mod.registerWasmHost !== 'function') fail('@cpex/host-wasm has no registerWasmHost export');
  const host = mod.registerWasmHost(manager, {
    cacheDir: path.join(repoRoot, '.cache', 'host-wasm', 'transpiled'),
  });
  return () => host.dispose();
}

/** Python plugins need @cpex/host-python, WASM plugins @cpex/host-wasm; registered only when used. */
async function registerHostsFor(manager: PluginManager): Promise<(() => Promise<void>) | undefined> {
  const kinds = manager.config?.entries.filter((e) => e.mode !== 'disabled').map((e) => e.kind) ?? [];
  const disposeWasm = await registerWasmFor(manager, kinds);
  const disposePython = await registerPythonFor(manager, kinds);
  if (!disposeWasm && !disposePython) return undefined;
  return async () => {
    await disposeWasm?.();
    await disposePython?.();
  };
}

async function registerPythonFor(
  manager: PluginManager,
  kinds: string[],
): Promise<(() => Promise<void>) | undefined> {
  const pythonKind = kinds.find(
    (k) => k.startsWith('python://') || k === 'isolated_venv' || /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/.test(k),
  );
  if (pythonKind === undefined) return undefined;
  let mod: {
    registerPythonHost?: (m: PluginManager, o?: { python?: string }) => { dispose(): Promise<void> };
  };
  try {
    mod = await import('@cpex/host-python');
  } catch (e) {
    fail(
      `This config has Python plugins (kind ${pythonKind}), but @cpex/host-python could not be loaded: ${
        e instanceof Error ? e.message : String(e)
      }\nInstall it (pnpm add @cpex/host-python) or run bash scripts/demo.sh, which sets everything up.`,
    );
  }
  if (typeof mod.registerPythonHost !== 'function')
    fail('@cpex/host-python has no registerPythonHost export');
  // Prefer the repo's venv (created by scripts/setup.sh) unless CPEX_PYTHON says otherwise.
  const venvPython = path.join(repoRoot, '.venv/bin/python');
  const python = process.env.CPEX_PYTHON ?? (existsSync(venvPython) ? venvPython : undefined);
  const host = mod.registerPythonHost(manager, python ? { python } : {});
  return () => host.dispose();
}

/**
 * Native plugins need @cpex/host-native. A config directory with a `setup.sh` builds its
 * libraries on first run (examples/native-plugin does: cargo build), so no binary is committed.
 */
async function registerNativeFor(
  manager: PluginManager,
  configPath: string,
): Promise<(() => Promise<void>) | undefined> {
  const entries =
    manager.config?.entries.filter((e) => e.mode !== 'disabled' && e.kind.startsWith('native://')) ?? [];
  if (entries.length === 0) return undefined;
  const dir = path.dirname(configPath);
  const missing = entries.some((e) => !existsSync(path.resolve(dir, e.kind.slice('native://'.length))));
  const setup = path.join(dir, 'setup.sh');
  if (missing && existsSync(setup)) {
    process.stderr.write(`building native plugins: bash ${path.relative(process.cwd(), setup)}\n`);
    const r = spawnSync('bash', [setup], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0)
      fail(`${setup} failed (exit ${r.status}); it needs cargo to build the example plugin`);
  }
  let mod: { registerNativeHost?: (m: PluginManager) => { dispose(): Promise<void> } };
  try {
    mod = await import('@cpex/host-native');
  } catch (e) {
    fail(
      `This config has native plugins, but @cpex/host-native could not be loaded: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (typeof mod.registerNativeHost !== 'function')
    fail('@cpex/host-native has no registerNativeHost export');
  const host = mod.registerNativeHost(manager);
  return () => host.dispose();
}

function decide(result: PipelineResult<unknown>): Decision {
  if (!result.continueProcessing) return 'deny';
  return result.payloadModified ? 'modify' : 'allow';
}

function report(
  seq: number,
  call: SampleCall,
  result: PipelineResult<unknown>,
  background: PluginErrorRecord[],
): CallReport {
  const v = result.violation;
  return {
    seq,
    user: call.user,
    hook: call.hook,
    tool: call.payload.name,
    decision: decide(result),
    plugin: v?.pluginName ?? null,
    violation: v ? { code: v.code, reason: v.reason, plugin_name: v.pluginName ?? null } : null,
    modified_payload: result.payloadModified ? result.modifiedPayload : null,
    metadata: result.metadata,
    retry_delay_ms: result.retryDelayMs,
    errors: [...result.errors, ...background].map((e) => ({
      plugin_name: e.pluginName,
      code: e.code,
      message: e.message,
    })),
  };
}

const MARK: Record<Decision, string> = { allow: 'ALLOW ', modify: 'MODIFY', deny: 'DENY  ' };

function printReadable(r: CallReport, call: SampleCall): void {
  const what =
    call.hook === 'tool_pre_invoke'
      ? JSON.stringify(call.payload.args ?? {})
      : `result ${JSON.stringify(call.payload.result)}`;
  const lines = [
    `${String(r.seq).padStart(2)}. ${r.user.padEnd(6)} ${call.hook === 'tool_post_invoke' ? '←' : '→'} ${r.tool} ${what}`,
  ];
  let detail = '';
  if (r.decision === 'deny' && r.violation) {
    detail = `${r.violation.plugin_name ?? '?'}: ${r.violation.code} - ${r.violation.reason}`;
    if (r.retry_delay_ms > 0) detail += ` (retry in ${Math.ceil(r.retry_delay_ms / 1000)}s)`;
  } else if (r.decision === 'modify') {
    const redacted = r.metadata.redacted as string[] | undefined;
    const shown =
      call.hook === 'tool_pre_invoke'
        ? (r.modified_payload as { args?: unknown }).args
        : (r.modified_payload as { result?: unknown }).result;
    detail = `${redacted ? `redacted ${redacted.join(', ')}` : 'payload changed'} → ${JSON.stringify(shown)}`;
  } else {
    detail = 'passed every plugin';
  }
  const audit = typeof r.metadata.audit_seq === 'number' ? `  [audit #${r.metadata.audit_seq}]` : '';
  lines.push(`    ${MARK[r.decision]}  ${detail}${audit}`);
  for (const e of r.errors) lines.push(`    error   ${e.plugin_name}: ${e.code} - ${e.message}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  let args: ReturnType<
    typeof parseArgs<{
      options: {
        config: { type: 'string' };
        json: { type: 'boolean' };
        help: { type: 'boolean'; short: 'h' };
      };
    }>
  >;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (e) {
    fail(`${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
  }
  if (args.values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const json = args.values.json === true;
  // pnpm runs scripts from the repo root; INIT_CWD is where the user typed the command.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const configPath = args.values.config ? path.resolve(cwd, args.values.config) : DEFAULT_CONFIG;

  let telemetryEvents = 0;
  const onTelemetry = () => {
    telemetryEvents += 1;
  };
  diagnosticsChannel.subscribe(TELEMETRY_CHANNEL, onTelemetry);

  const manager = new PluginManager();
  let disposeHost: (() => Promise<void>) | undefined;
  try {
    await manager.loadConfig(configPath);
    const disposePython = await registerHostsFor(manager);
    const disposeNative = await registerNativeFor(manager, configPath);
    disposeHost = async () => {
      await disposePython?.();
      await disposeNative?.();
    };
    await manager.initialize();
  } catch (e) {
    await manager.shutdown().catch(() => {});
    await disposeHost?.().catch(() => {});
    fail(describeError(e));
  }

  if (!json) {
    process.stdout.write(
      `cpex quickstart gateway - config ${path.relative(cwd, configPath) || configPath}\n`,
    );
    for (const hook of ['tool_pre_invoke', 'tool_post_invoke']) {
      if (!manager.hasHooksFor(hook)) continue;
      const phases = Object.entries(manager.lineup(hook))
        .filter(([, list]) => list.length > 0)
        .map(([phase, list]) => `${phase}: ${list.map((p) => p.name).join(', ')}`);
      process.stdout.write(`  ${hook}  ${phases.join(' | ')}\n`);
    }
    process.stdout.write('\n');
  }

  const counts: Record<Decision, number> = { allow: 0, modify: 0, deny: 0 };
  try {
    for (const [i, call] of SAMPLE_CALLS.entries()) {
      const globalContext: GlobalContext = {
        requestId: `req-${i + 1}`,
        user: call.user,
        state: {},
        metadata: {},
      };
      const result = await manager.invoke(call.hook, call.payload, { globalContext });
      const background = await result.background.wait();
      const r = report(i + 1, call, result, background);
      counts[r.decision] += 1;
      if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else printReadable(r, call);
    }
  } finally {
    await manager.shutdown();
    await disposeHost?.();
    diagnosticsChannel.unsubscribe(TELEMETRY_CHANNEL, onTelemetry);
  }
  const summary = { calls: SAMPLE_CALLS.length, ...counts, telemetry_events: telemetryEvents };
  if (json) process.stdout.write(`${JSON.stringify({ summary })}\n`);
  else {
    process.stdout.write(
      `\n${summary.calls} calls: ${counts.allow} allowed, ${counts.modify} modified, ${counts.deny} denied; ` +
        `${telemetryEvents} telemetry events recorded in the background\n`,
    );
  }
}

// `pnpm demo --json | head` closes stdout early; that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main().catch((e: unknown) => fail(describeError(e)));
