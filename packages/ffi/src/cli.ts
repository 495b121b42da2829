/**
 * `cpex serve`, contributed to the `cpex` command (packages/cli loads `@cpex/ffi/cli`).
 */
import { parseArgs } from 'node:util';
import { SidecarServer } from './server.js';

/** Same shape as `CliCommand`/`CliIo` of @cpex/cli (kept structural: the ffi does not depend on the cli). */
interface Io {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  env: Record<string, string | undefined>;
}

export const serveHelp = `Usage: cpex serve [--config FILE] (--socket PATH | --stdio) [options]

Run a CPEX sidecar: PluginManagers served over length-prefixed MessagePack frames
(docs/ffi/protocol.md) to non-JS gateways (the Go module in packages/ffi/go).

  --config FILE          preload and initialize FILE as the shared manager (every connection may use it)
  --socket PATH          listen on a Unix socket, created with mode 0600 (a stale socket file is replaced)
  --stdio                serve one connection on stdin/stdout (console output goes to stderr)
  --max-frame-bytes N    largest frame accepted (default 16777216)
  --call-timeout-ms N    wall-clock limit of one call before it answers -6 (default 60000)
  --drain-timeout-ms N   on SIGTERM/SIGINT, how long calls in flight may finish (default 30000)
  -h, --help             this help

Exit codes: 0 stopped by SIGTERM/SIGINT (or stdin closed) after draining, 1 the config failed to
load, 2 usage error.`;

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
}

/** Run `cpex serve`; resolves with the exit code when the sidecar stops. */
export async function serveCommand(argv: string[], io: Io): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let socket: string | undefined;
  let opts: Record<string, number | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        socket: { type: 'string' },
        stdio: { type: 'boolean' },
        'max-frame-bytes': { type: 'string' },
        'call-timeout-ms': { type: 'string' },
        'drain-timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
    if (values.help) {
      io.out(`${serveHelp}\n`);
      return 0;
    }
    socket = values.socket as string | undefined;
    if ((socket === undefined) === (values.stdio !== true))
      throw new Error('give exactly one of --socket PATH or --stdio');
    opts = {
      maxFrameBytes: positiveInt('max-frame-bytes', values['max-frame-bytes'] as string | undefined),
      callTimeoutMs: positiveInt('call-timeout-ms', values['call-timeout-ms'] as string | undefined),
      drainTimeoutMs: positiveInt('drain-timeout-ms', values['drain-timeout-ms'] as string | undefined),
    };
  } catch (e) {
    io.err(
      `error CPEX_ERR_INVALID_ARGUMENT: ${e instanceof Error ? e.message : String(e)}\n\n${serveHelp}\n`,
    );
    return 2;
  }
  const stdio = values.stdio === true;
  if (stdio) {
    // stdout carries frames: everything a plugin prints goes to stderr.
    const toErr = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(' ')}\n`);
    console.log = toErr;
    console.info = toErr;
    console.debug = toErr;
  }
  const server = new SidecarServer({
    ...(values.config !== undefined ? { config: values.config as string } : {}),
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    cwd: io.cwd,
    env: io.env,
    logger: {
      debug() {},
      info() {},
      warn: (m) => io.err(`cpex serve: warning: ${m}\n`),
      error: (m) => io.err(`cpex serve: error: ${m}\n`),
    },
  });
  try {
    await server.start();
    if (socket !== undefined) await server.listen(socket);
  } catch (e) {
    const code = (e as { code?: string }).code;
    io.err(
      `error ${code?.startsWith('CPEX_ERR_') ? code : 'CPEX_ERR_CONFIG_READ'}: ${e instanceof Error ? e.message : String(e)}\n`,
    );
    await server.close();
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void server.close().then(() => resolve(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (stdio) {
      server.attach(process.stdin, process.stdout);
      process.stdin.on('end', stop);
      process.stdin.on('close', stop);
    } else {
      io.err(`cpex serve: listening on ${socket}\n`);
    }
  });
}

/** Subcommands this package adds to `cpex`. */
export const cliCommands = [
  {
    name: 'serve',
    summary: 'run a sidecar serving PluginManagers to other languages (Go) over a Unix socket or stdio',
    help: serveHelp,
    run: serveCommand,
  },
];
