// The child program of `isolation: process`: loads ONE native library with koffi and serves it
// over fd 3, a socket pair, in length-prefixed MessagePack frames (4-byte big-endian length, then
// a MessagePack map: host-python's msgpack framing). The request and result bytes of the C ABI
// pass through untouched: the parent encodes and decodes them exactly as in-process.
//
// Frames, parent -> child: {op:'init', config: bin} | {op:'call', id, request: bin} |
//   {op:'cancel', id} | {op:'shutdown'}
// child -> parent: {op:'hello', pid, manifest} | {op:'hello', error} | {op:'init', status, message?}
//   | {op:'result', id, status, data?: bin, size?} | {op:'bye'}
// Plain JavaScript on purpose: no build step between the package and its child.
import net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const koffi = require('koffi');
const { Encoder, Decoder } = require('@msgpack/msgpack');

// The supervisor's in-child duties (language-neutral protocol, docs/security.md "Processes"):
// die with the gateway (EOF on the lifeline fd), keep orphaned descendants in our tree (child
// subreaper), and keep protocol fds out of anything the plugin execs (close-on-exec).
function killOwnTreeAndExit(code) {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {}
  process.exit(code);
}
try {
  const libc = koffi.load('libc.so.6');
  const prctl = libc.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
  prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0);
  const fcntl = libc.func('int fcntl(int, int, ...)');
  const lifeline = Number(process.env.CPEX_LIFELINE_FD);
  for (const fd of [3, lifeline])
    if (Number.isInteger(fd) && fd > 2) fcntl(fd, 2 /* F_SETFD */, 'int', 1 /* FD_CLOEXEC */);
} catch {}
{
  const raw = process.env.CPEX_LIFELINE_FD;
  if (raw && /^\d+$/.test(raw)) {
    try {
      const line = new net.Socket({ fd: Number(raw), readable: true, writable: false });
      line.on('end', () => killOwnTreeAndExit(1));
      line.on('close', () => killOwnTreeAndExit(1));
      line.on('error', () => killOwnTreeAndExit(1));
      line.resume();
      line.unref();
    } catch {}
  }
}

const libraryPath = process.argv[2];
const maxBytes = Number(process.argv[3]) || 10_000_000;
const asyncStack = Number(process.argv[4]) || 1024 * 1024;
try {
  koffi.config({ ...koffi.config(), async_stack_size: asyncStack });
} catch {}

const encoder = new Encoder();
const decoder = new Decoder({ maxBinLength: maxBytes + 1024, maxStrLength: maxBytes });
const channel = new net.Socket({ fd: 3, readable: true, writable: true });

function send(frame) {
  const body = encoder.encode(frame);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  channel.write(head);
  channel.write(body);
}

let lib;
let fns;
let state = null;
let initialized = false;
const queue = [];
let running = null;
const cancel = koffi.alloc('int32_t', 1);

function hello() {
  try {
    lib = koffi.load(libraryPath);
  } catch (e) {
    return send({ op: 'hello', error: { code: 'load', message: `cannot be opened: ${e.message}` } });
  }
  try {
    fns = {
      manifest: lib.func('const void *cpex_plugin_manifest(void)'),
      init: lib.func(
        'int32_t cpex_plugin_init(const uint8_t *config, size_t config_len, _Out_ void **state, _Out_ void **err, _Out_ size_t *err_len)',
      ),
      invoke: lib.func(
        'int32_t cpex_plugin_invoke(void *state, const uint8_t *request, size_t request_len, void *cancel, _Out_ void **out, _Out_ size_t *out_len)',
      ),
      free: lib.func('void cpex_plugin_free(void *ptr, size_t len)'),
      shutdown: lib.func('void cpex_plugin_shutdown(void *state)'),
    };
  } catch (e) {
    return send({
      op: 'hello',
      error: { code: 'symbols', message: `does not export the cpex_plugin.h functions (${e.message})` },
    });
  }
  const ptr = fns.manifest();
  if (ptr === null)
    return send({
      op: 'hello',
      error: { code: 'manifest', message: 'cpex_plugin_manifest() returned NULL' },
    });
  const abi = koffi.decode(ptr, 'uint32_t');
  if (abi !== 1) return send({ op: 'hello', pid: process.pid, manifest: { abi_version: abi } });
  const raw = koffi.decode(
    ptr,
    koffi.struct({
      abi_version: 'uint32_t',
      hook_count: 'uint32_t',
      interface_hash: 'uint64_t',
      name: 'const char *',
      version: 'const char *',
      hooks: 'void *',
    }),
  );
  const count = Math.min(raw.hook_count, 4096);
  const hooks = count && raw.hooks !== null ? koffi.decode(raw.hooks, 'const char *', count) : [];
  send({
    op: 'hello',
    pid: process.pid,
    manifest: {
      abi_version: abi,
      interface_hash: `0x${BigInt(raw.interface_hash).toString(16)}`,
      name: raw.name,
      version: raw.version,
      hook_count: raw.hook_count,
      hooks,
    },
  });
}

function take(ptr, len, copy) {
  if (ptr === null) return undefined;
  try {
    return copy && len > 0 ? new Uint8Array(koffi.view(ptr, len)).slice() : undefined;
  } finally {
    fns.free(ptr, len);
  }
}

function init(config) {
  const st = [null];
  const err = [null];
  const errLen = [0];
  fns.init.async(config, config.length, st, err, errLen, (e, rc) => {
    if (e) return send({ op: 'init', status: -1, message: String(e.message) });
    const msg = take(err[0], errLen[0], rc !== 0);
    if (rc === 0) {
      state = st[0];
      initialized = true;
    }
    send({
      op: 'init',
      status: rc,
      ...(msg ? { message: Buffer.from(msg.subarray(0, 65536)).toString('utf8') } : {}),
    });
  });
}

function pump() {
  if (running || queue.length === 0) return;
  const call = queue.shift();
  running = call;
  koffi.encode(cancel, 'int32_t', call.cancelled ? 1 : 0);
  const out = [null];
  const outLen = [0];
  fns.invoke.async(state, call.request, call.request.length, cancel, out, outLen, (e, rc) => {
    running = null;
    if (e) send({ op: 'result', id: call.id, status: -1, data: Buffer.from(String(e.message)) });
    else {
      const len = outLen[0];
      const tooBig = rc === 0 && len > maxBytes;
      const data = take(out[0], len, !tooBig);
      send({
        op: 'result',
        id: call.id,
        status: rc,
        ...(data ? { data } : {}),
        ...(tooBig ? { size: len } : {}),
      });
    }
    pump();
  });
}

function onFrame(frame) {
  switch (frame.op) {
    case 'init':
      return init(frame.config);
    case 'call':
      if (!initialized)
        return send({ op: 'result', id: frame.id, status: -1, data: Buffer.from('not initialized') });
      queue.push({ id: frame.id, request: frame.request, cancelled: false });
      return pump();
    case 'cancel': {
      if (running && running.id === frame.id) koffi.encode(cancel, 'int32_t', 1);
      const i = queue.findIndex((c) => c.id === frame.id);
      if (i >= 0) queue[i].cancelled = true;
      return;
    }
    case 'shutdown':
      if (initialized && !running) fns.shutdown(state);
      initialized = false;
      send({ op: 'bye' });
      channel.end(() => process.exit(0));
      return;
  }
}

let buffered = Buffer.alloc(0);
channel.on('data', (chunk) => {
  buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
  while (buffered.length >= 4) {
    const len = buffered.readUInt32BE(0);
    if (buffered.length < 4 + len) break;
    const body = buffered.subarray(4, 4 + len);
    buffered = buffered.subarray(4 + len);
    let frame;
    try {
      frame = decoder.decode(body);
    } catch {
      process.exit(70);
    }
    onFrame(frame);
  }
});
// The parent went away: nothing left to serve.
channel.on('end', () => process.exit(0));
channel.on('error', () => process.exit(0));

hello();
