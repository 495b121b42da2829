/**
 * Deny-by-default WASI 0.2 for plugin guests, written for this host (never the stock
 * preview2-shim objects: their environment is `process.env` and their network is on).
 *
 * Every WASI 0.2 interface a Rust/C wasip2 guest may import gets an implementation, so such a guest
 * loads; what the sandbox policy does not grant fails inside the guest:
 * - env: only `allowed_env` names; arguments empty; no cwd;
 * - filesystem: no preopens unless `allowed_filesystem` grants directories (read or read-write),
 *   paths confined to the preopen (`..` and symlinks out of it are refused);
 * - sockets: every operation is `access-denied` (PR #65 grants no sockets either);
 * - outgoing HTTP: `HTTP-request-denied` unless a rule of `allowed_network` matches host, port,
 *   scheme and method; granted requests run synchronously (the guest blocks, as on wasmtime);
 * - stdout/stderr/host-logging go to the sink (the plugin's logger, with its name); stdin is empty;
 *   `exit` traps; clocks and random are real (they reveal nothing the guest could not measure).
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { NetworkRule, SandboxPolicy } from './policy.js';

export type LogStream = 'stdout' | 'stderr' | 'log';
/** Where guest output goes: (stream, level, text). */
export type Sink = (stream: LogStream, level: string, text: string) => void;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}
const nowNs = () => process.hrtime.bigint();

// ---- wasi:io --------------------------------------------------------------------------------

class IoError {
  constructor(readonly message: string) {}
  toDebugString(): string {
    return this.message;
  }
}

/** Ready at `deadline` (monotonic ns), or when `check()` says so; `block()` waits for it. */
class Pollable {
  constructor(
    private readonly deadline?: bigint,
    private readonly wait?: () => void,
  ) {}
  ready(): boolean {
    return this.deadline === undefined || nowNs() >= this.deadline;
  }
  block(): void {
    if (this.wait) this.wait();
    if (this.deadline !== undefined) {
      const left = this.deadline - nowNs();
      if (left > 0n) sleepMs(Math.ceil(Number(left) / 1e6));
    }
  }
  /** ns until ready (0 when ready). */
  remaining(): bigint {
    if (this.deadline === undefined) return 0n;
    const left = this.deadline - nowNs();
    return left > 0n ? left : 0n;
  }
}

function poll(list: Pollable[]): Uint32Array {
  const ready = () => list.map((p, i) => (p.ready() ? i : -1)).filter((i) => i >= 0);
  let r = ready();
  if (r.length === 0 && list.length > 0) {
    let min = list[0]!.remaining();
    for (const p of list) if (p.remaining() < min) min = p.remaining();
    sleepMs(Math.ceil(Number(min) / 1e6));
    r = ready();
    if (r.length === 0) {
      list[0]!.block();
      r = [0];
    }
  }
  return new Uint32Array(r);
}

const CLOSED = { tag: 'closed' } as const;

/** A readable stream over a byte source that pulls chunks (`undefined` = end). */
class InputStream {
  private buf: Uint8Array = new Uint8Array(0);
  private ended = false;
  constructor(private readonly pull: (max: number) => Uint8Array | undefined) {}
  read(len: bigint): Uint8Array {
    const n = Number(len);
    if (this.buf.length === 0 && !this.ended) {
      const chunk = this.pull(Math.max(n, 1));
      if (chunk === undefined) this.ended = true;
      else this.buf = chunk;
    }
    if (this.buf.length === 0 && this.ended) throw CLOSED;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }
  blockingRead(len: bigint): Uint8Array {
    return this.read(len);
  }
  skip(len: bigint): bigint {
    return BigInt(this.read(len).length);
  }
  blockingSkip(len: bigint): bigint {
    return this.skip(len);
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

/** A writable stream into a sink function. */
class OutputStream {
  constructor(
    private readonly sink: (bytes: Uint8Array) => void,
    private readonly onFlush?: () => void,
  ) {}
  checkWrite(): bigint {
    return 1_048_576n;
  }
  write(contents: Uint8Array): void {
    this.sink(contents.slice());
  }
  blockingWriteAndFlush(contents: Uint8Array): void {
    this.sink(contents.slice());
    this.onFlush?.();
  }
  flush(): void {
    this.onFlush?.();
  }
  blockingFlush(): void {
    this.onFlush?.();
  }
  writeZeroes(len: bigint): void {
    this.sink(new Uint8Array(Number(len)));
  }
  blockingWriteZeroesAndFlush(len: bigint): void {
    this.writeZeroes(len);
  }
  splice(): bigint {
    throw CLOSED;
  }
  blockingSplice(): bigint {
    throw CLOSED;
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

function emptyInput(): InputStream {
  return new InputStream(() => undefined);
}

/** Line-buffers guest text into the sink. */
function lineSink(sink: Sink, stream: LogStream, level: string) {
  const decoder = new TextDecoder();
  let pending = '';
  const flush = () => {
    if (pending) sink(stream, level, pending);
    pending = '';
  };
  const write = (bytes: Uint8Array) => {
    pending += decoder.decode(bytes, { stream: true });
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      sink(stream, level, pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
    if (pending.length > 8192) flush();
  };
  return { write, flush };
}

// ---- wasi:filesystem --------------------------------------------------------------------------

interface Perms {
  dirRead: boolean;
  dirMutate: boolean;
  fileRead: boolean;
  fileWrite: boolean;
}

/** Permission names of PR #65's `allowed_filesystem[].permission` (plus read / read-write). */
export const FS_PERMISSIONS: Record<string, Perms> = {
  'read-only': { dirRead: true, dirMutate: false, fileRead: true, fileWrite: false },
  read: { dirRead: true, dirMutate: false, fileRead: true, fileWrite: false },
  'full-access': { dirRead: true, dirMutate: true, fileRead: true, fileWrite: true },
  'read-write': { dirRead: true, dirMutate: true, fileRead: true, fileWrite: true },
  'drop-box': { dirRead: false, dirMutate: true, fileRead: false, fileWrite: true },
  'fixed-mutable': { dirRead: true, dirMutate: false, fileRead: true, fileWrite: true },
  'list-only': { dirRead: true, dirMutate: false, fileRead: false, fileWrite: false },
  'private-scratch': { dirRead: false, dirMutate: true, fileRead: true, fileWrite: true },
};

function errnoToCode(e: unknown): string {
  switch ((e as NodeJS.ErrnoException)?.code) {
    case 'ENOENT':
      return 'no-entry';
    case 'EACCES':
      return 'access';
    case 'EPERM':
      return 'not-permitted';
    case 'EEXIST':
      return 'exist';
    case 'ENOTDIR':
      return 'not-directory';
    case 'EISDIR':
      return 'is-directory';
    case 'ENOTEMPTY':
      return 'not-empty';
    case 'ELOOP':
      return 'loop';
    case 'ENAMETOOLONG':
      return 'name-too-long';
    default:
      return 'io';
  }
}

function fsCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (typeof e === 'string' || (e && typeof e === 'object' && 'tag' in e)) throw e;
    throw errnoToCode(e);
  }
}

function timestamp(ms: number) {
  const s = Math.floor(ms / 1000);
  return { seconds: BigInt(s), nanoseconds: Math.floor((ms - s * 1000) * 1e6) };
}

function statOf(st: fs.Stats) {
  return {
    type: st.isDirectory()
      ? 'directory'
      : st.isFile()
        ? 'regular-file'
        : st.isSymbolicLink()
          ? 'symbolic-link'
          : 'unknown',
    linkCount: BigInt(st.nlink),
    size: BigInt(st.size),
    dataAccessTimestamp: timestamp(st.atimeMs),
    dataModificationTimestamp: timestamp(st.mtimeMs),
    statusChangeTimestamp: timestamp(st.ctimeMs),
  };
}

class DirectoryEntryStream {
  private i = 0;
  constructor(private readonly entries: fs.Dirent[]) {}
  readDirectoryEntry() {
    const e = this.entries[this.i++];
    if (!e) return undefined;
    return { type: e.isDirectory() ? 'directory' : e.isFile() ? 'regular-file' : 'unknown', name: e.name };
  }
}

/** A file or directory inside one preopen; every path is confined to the preopen's real root. */
class Descriptor {
  constructor(
    readonly hostPath: string,
    readonly isDir: boolean,
    readonly root: string,
    readonly perms: Perms,
    readonly canRead: boolean,
    readonly canWrite: boolean,
  ) {}

  private resolve(rel: string): string {
    if (path.isAbsolute(rel)) throw 'not-permitted';
    const target = path.resolve(this.hostPath, rel);
    const inside = (p: string) => p === this.root || p.startsWith(this.root + path.sep);
    if (!inside(target)) throw 'not-permitted';
    // Follow symlinks of what exists: the real path must stay inside the root too.
    let probe = target;
    while (!fs.existsSync(probe) && probe !== this.root) probe = path.dirname(probe);
    const real = fs.realpathSync(probe);
    if (!inside(real)) throw 'not-permitted';
    return target;
  }
  getType() {
    return this.isDir ? 'directory' : 'regular-file';
  }
  getFlags() {
    return { read: this.canRead, write: this.canWrite, mutateDirectory: this.isDir && this.perms.dirMutate };
  }
  stat() {
    return fsCall(() => statOf(fs.statSync(this.hostPath)));
  }
  statAt(_flags: unknown, rel: string) {
    return fsCall(() => statOf(fs.statSync(this.resolve(rel))));
  }
  openAt(
    _pathFlags: unknown,
    rel: string,
    openFlags: { create?: boolean; directory?: boolean; exclusive?: boolean; truncate?: boolean },
    flags: { read?: boolean; write?: boolean; mutateDirectory?: boolean },
  ): Descriptor {
    if (!this.isDir) throw 'not-directory';
    return fsCall(() => {
      const target = this.resolve(rel);
      const wantsWrite = !!(flags.write || openFlags.create || openFlags.truncate);
      if (wantsWrite && !(this.perms.fileWrite && this.perms.dirMutate)) throw 'read-only';
      const exists = fs.existsSync(target);
      if (exists && openFlags.exclusive && openFlags.create) throw 'exist';
      if (!exists) {
        if (!openFlags.create) throw 'no-entry';
        fs.writeFileSync(target, '');
      } else if (openFlags.truncate) fs.truncateSync(target, 0);
      const st = fs.statSync(target);
      if (openFlags.directory && !st.isDirectory()) throw 'not-directory';
      if (st.isDirectory()) {
        if (!this.perms.dirRead && !this.perms.dirMutate) throw 'access';
      } else if (flags.read && !this.perms.fileRead) throw 'access';
      return new Descriptor(target, st.isDirectory(), this.root, this.perms, !!flags.read, !!flags.write);
    });
  }
  private checkRead() {
    if (this.isDir) throw 'is-directory';
    if (!this.perms.fileRead) throw 'access';
  }
  private checkWrite() {
    if (this.isDir) throw 'is-directory';
    if (!this.perms.fileWrite || !this.canWrite) throw 'bad-descriptor';
  }
  readViaStream(offset: bigint): InputStream {
    this.checkRead();
    let pos = Number(offset);
    return new InputStream((max) => {
      const buf = Buffer.alloc(Math.min(max, 1 << 20));
      const fd = fs.openSync(this.hostPath, 'r');
      let n = 0;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, pos);
      } finally {
        fs.closeSync(fd);
      }
      pos += n;
      return n === 0 ? undefined : new Uint8Array(buf.buffer, buf.byteOffset, n);
    });
  }
  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    this.checkRead();
    return fsCall(() => {
      const fd = fs.openSync(this.hostPath, 'r');
      try {
        const buf = Buffer.alloc(Number(length));
        const n = fs.readSync(fd, buf, 0, buf.length, Number(offset));
        return [new Uint8Array(buf.buffer, buf.byteOffset, n), n < buf.length];
      } finally {
        fs.closeSync(fd);
      }
    });
  }
  writeViaStream(offset: bigint): OutputStream {
    this.checkWrite();
    let pos = Number(offset);
    return new OutputStream((bytes) => {
      const fd = fs.openSync(this.hostPath, 'r+');
      try {
        pos += fs.writeSync(fd, bytes, 0, bytes.length, pos);
      } finally {
        fs.closeSync(fd);
      }
    });
  }
  appendViaStream(): OutputStream {
    this.checkWrite();
    return new OutputStream((bytes) => fs.appendFileSync(this.hostPath, bytes));
  }
  write(buffer: Uint8Array, offset: bigint): bigint {
    this.checkWrite();
    return fsCall(() => {
      const fd = fs.openSync(this.hostPath, 'r+');
      try {
        return BigInt(fs.writeSync(fd, buffer, 0, buffer.length, Number(offset)));
      } finally {
        fs.closeSync(fd);
      }
    });
  }
  setSize(size: bigint): void {
    this.checkWrite();
    fsCall(() => fs.truncateSync(this.hostPath, Number(size)));
  }
  readDirectory(): DirectoryEntryStream {
    if (!this.isDir) throw 'not-directory';
    if (!this.perms.dirRead) throw 'access';
    return fsCall(() => new DirectoryEntryStream(fs.readdirSync(this.hostPath, { withFileTypes: true })));
  }
  createDirectoryAt(rel: string): void {
    if (!this.perms.dirMutate) throw 'read-only';
    fsCall(() => fs.mkdirSync(this.resolve(rel)));
  }
  removeDirectoryAt(rel: string): void {
    if (!this.perms.dirMutate) throw 'read-only';
    fsCall(() => fs.rmdirSync(this.resolve(rel)));
  }
  unlinkFileAt(rel: string): void {
    if (!this.perms.dirMutate) throw 'read-only';
    fsCall(() => fs.unlinkSync(this.resolve(rel)));
  }
  renameAt(oldRel: string, newDir: Descriptor, newRel: string): void {
    if (!this.perms.dirMutate || !newDir.perms.dirMutate) throw 'read-only';
    fsCall(() => fs.renameSync(this.resolve(oldRel), newDir.resolve(newRel)));
  }
  metadataHash() {
    return fsCall(() => {
      const st = fs.statSync(this.hostPath, { bigint: true });
      return { lower: st.ino, upper: st.dev };
    });
  }
  metadataHashAt(_flags: unknown, rel: string) {
    return fsCall(() => {
      const st = fs.statSync(this.resolve(rel), { bigint: true });
      return { lower: st.ino, upper: st.dev };
    });
  }
  isSameObject(other: Descriptor): boolean {
    return other.hostPath === this.hostPath;
  }
  advise(): void {}
  syncData(): void {}
  sync(): void {}
  readlinkAt(): string {
    throw 'not-permitted';
  }
  symlinkAt(): void {
    throw 'not-permitted';
  }
  linkAt(): void {
    throw 'not-permitted';
  }
  setTimes(): void {
    throw 'not-permitted';
  }
  setTimesAt(): void {
    throw 'not-permitted';
  }
}

// ---- wasi:http ---------------------------------------------------------------------------------

const enc = new TextEncoder();
const dec = new TextDecoder();

class Fields {
  private map = new Map<string, Uint8Array[]>();
  static fromList(entries: Array<[string, Uint8Array]>): Fields {
    const f = new Fields();
    for (const [k, v] of entries) f.append(k, v);
    return f;
  }
  get(name: string): Uint8Array[] {
    return this.map.get(name.toLowerCase()) ?? [];
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, values: Uint8Array[]): void {
    this.map.set(name.toLowerCase(), [...values]);
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  append(name: string, value: Uint8Array): void {
    const k = name.toLowerCase();
    this.map.set(k, [...(this.map.get(k) ?? []), value]);
  }
  entries(): Array<[string, Uint8Array]> {
    const out: Array<[string, Uint8Array]> = [];
    for (const [k, vs] of this.map) for (const v of vs) out.push([k, v]);
    return out;
  }
  clone(): Fields {
    return Fields.fromList(this.entries());
  }
}

type Variant = { tag: string; val?: string };

class OutgoingBody {
  chunks: Uint8Array[] = [];
  finished = false;
  private taken = false;
  write(): OutputStream {
    if (this.taken) throw undefined;
    this.taken = true;
    return new OutputStream((b) => this.chunks.push(b));
  }
  static finish(body: OutgoingBody): void {
    body.finished = true;
  }
}

class OutgoingRequest {
  private _method: Variant = { tag: 'get' };
  private _scheme: Variant | undefined;
  private _authority: string | undefined;
  private _path: string | undefined;
  private _body: OutgoingBody | undefined;
  readonly bodyObj = new OutgoingBody();
  constructor(readonly fields: Fields) {}
  body(): OutgoingBody {
    if (this._body) throw undefined;
    this._body = this.bodyObj;
    return this.bodyObj;
  }
  method(): Variant {
    return this._method;
  }
  setMethod(m: Variant): void {
    this._method = m;
  }
  pathWithQuery(): string | undefined {
    return this._path;
  }
  setPathWithQuery(p: string | undefined): void {
    this._path = p;
  }
  scheme(): Variant | undefined {
    return this._scheme;
  }
  setScheme(s: Variant | undefined): void {
    this._scheme = s;
  }
  authority(): string | undefined {
    return this._authority;
  }
  setAuthority(a: string | undefined): void {
    this._authority = a;
  }
  headers(): Fields {
    return this.fields;
  }
}

class RequestOptions {
  private t: Record<string, bigint | undefined> = {};
  connectTimeout() {
    return this.t.connect;
  }
  setConnectTimeout(v: bigint | undefined) {
    this.t.connect = v;
  }
  firstByteTimeout() {
    return this.t.first;
  }
  setFirstByteTimeout(v: bigint | undefined) {
    this.t.first = v;
  }
  betweenBytesTimeout() {
    return this.t.between;
  }
  setBetweenBytesTimeout(v: bigint | undefined) {
    this.t.between = v;
  }
}

class IncomingBody {
  constructor(private readonly bytes: Uint8Array) {}
  private taken = false;
  stream(): InputStream {
    if (this.taken) throw undefined;
    this.taken = true;
    let done = false;
    return new InputStream(() => {
      if (done) return undefined;
      done = true;
      return this.bytes.length ? this.bytes : undefined;
    });
  }
  static finish(): FutureTrailers {
    return new FutureTrailers();
  }
}

class FutureTrailers {
  subscribe() {
    return new Pollable();
  }
  get() {
    return { tag: 'ok', val: { tag: 'ok', val: undefined } };
  }
}

class IncomingResponse {
  private consumed = false;
  constructor(
    private readonly _status: number,
    private readonly _headers: Fields,
    private readonly body: Uint8Array,
  ) {}
  status(): number {
    return this._status;
  }
  headers(): Fields {
    return this._headers;
  }
  consume(): IncomingBody {
    if (this.consumed) throw undefined;
    this.consumed = true;
    return new IncomingBody(this.body);
  }
}

interface HttpOutcome {
  ok: boolean;
  status?: number;
  headers?: Array<[string, string]>;
  body?: Uint8Array;
  error?: string;
}

class FutureIncomingResponse {
  private outcome: HttpOutcome | undefined;
  private taken = false;
  constructor(private readonly run: () => HttpOutcome) {}
  private settle() {
    this.outcome ??= this.run();
  }
  subscribe(): Pollable {
    return new Pollable(undefined, () => this.settle());
  }
  get() {
    this.settle();
    if (this.taken) return { tag: 'err', val: undefined };
    this.taken = true;
    const o = this.outcome!;
    if (!o.ok) return { tag: 'ok', val: { tag: 'err', val: httpError(o.error ?? 'internal') } };
    const headers = Fields.fromList((o.headers ?? []).map(([k, v]) => [k, enc.encode(v)]));
    return {
      tag: 'ok',
      val: { tag: 'ok', val: new IncomingResponse(o.status ?? 0, headers, o.body ?? new Uint8Array()) },
    };
  }
}

function httpError(e: string): Variant {
  if (e === 'ECONNREFUSED') return { tag: 'connection-refused' };
  if (e === 'ENOTFOUND' || e === 'EAI_AGAIN')
    return { tag: 'DNS-error', val: undefined } as unknown as Variant;
  if (e === 'timeout') return { tag: 'connection-timeout' };
  return { tag: 'internal-error', val: e };
}

/** Decides a request against the allow-list (PR #65's rule semantics). */
export function networkAllows(
  rules: readonly NetworkRule[],
  req: { scheme: string; host: string; port: number | undefined; method: string },
): boolean {
  const port = req.port ?? (req.scheme === 'https' ? 443 : 80);
  return rules.some((r) => {
    const hostOk = r.host.startsWith('*.') ? req.host.endsWith(r.host.slice(1)) : req.host === r.host;
    if (!hostOk) return false;
    if (r.ports.length > 0 && !r.ports.includes(port)) return false;
    if (r.schemes.length > 0 && !r.schemes.includes(req.scheme)) return false;
    if (r.methods.length > 0 && !r.methods.some((m) => m.toLowerCase() === req.method.toLowerCase()))
      return false;
    return true;
  });
}

const FETCH_HELPER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ flag, port, url, method, headers, body, timeoutMs }) => {
  const f = new Int32Array(flag);
  let out;
  try {
    const r = await fetch(url, { method, headers, body: body && body.length ? body : undefined, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    out = { ok: true, status: r.status, headers: [...r.headers], body: new Uint8Array(await r.arrayBuffer()) };
  } catch (e) {
    out = { ok: false, error: String((e && e.cause && e.cause.code) || (e && e.name === 'TimeoutError' ? 'timeout' : (e && e.message) || e)) };
  }
  port.postMessage(out);
  Atomics.store(f, 0, 1);
  Atomics.notify(f, 0);
});
`;

let fetchWorker: Worker | undefined;
/** Runs one fetch on a helper thread and blocks this thread until it answers. */
function fetchSync(
  url: string,
  method: string,
  headers: Array<[string, string]>,
  body: Uint8Array,
  timeoutMs: number,
): HttpOutcome {
  if (!fetchWorker) {
    fetchWorker = new Worker(FETCH_HELPER, { eval: true });
    fetchWorker.unref();
  }
  const flag = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  fetchWorker.postMessage({ flag, port: port2, url, method, headers, body, timeoutMs }, [
    port2 as MessagePort,
  ]);
  const res = Atomics.wait(new Int32Array(flag), 0, 0, timeoutMs + 1000);
  const msg = receiveMessageOnPort(port1);
  port1.close();
  if (res === 'timed-out' || !msg) return { ok: false, error: 'timeout' };
  return msg.message as HttpOutcome;
}

// ---- the import object -------------------------------------------------------------------------

/** Every WASI 0.2 interface this host implements (all of them), unversioned. */
export const WASI_INTERFACES = [
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/run',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
  'wasi:clocks/monotonic-clock',
  'wasi:clocks/wall-clock',
  'wasi:filesystem/types',
  'wasi:filesystem/preopens',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
  'wasi:sockets/network',
  'wasi:sockets/instance-network',
  'wasi:sockets/udp',
  'wasi:sockets/udp-create-socket',
  'wasi:sockets/tcp',
  'wasi:sockets/tcp-create-socket',
  'wasi:sockets/ip-name-lookup',
  'wasi:http/types',
  'wasi:http/outgoing-handler',
] as const;

/** The world's own imports besides WASI. */
export const WORLD_INTERFACES = ['cpex:plugin/types', 'cpex:plugin/host-logging'] as const;

const DENIED = 'access-denied';
function deniedClass(name: string) {
  return class {
    static readonly denied = name;
    constructor() {
      throw DENIED;
    }
  };
}

/** A thrown value the guest sees as a trap (exit, or a host-side failure). */
export class GuestExit extends Error {
  constructor(readonly status: number) {
    super(`guest called exit(${status})`);
    this.name = 'GuestExit';
  }
}

export interface WasiOptions {
  policy: SandboxPolicy;
  sink: Sink;
  /** Upper bound of one outgoing HTTP request, ms. */
  httpTimeoutMs: number;
}

/** Builds the import object for one component instance: WASI (deny-by-default) + host-logging. */
export function buildImports(opts: WasiOptions): Record<string, Record<string, unknown>> {
  const { policy, sink } = opts;
  const stdout = lineSink(sink, 'stdout', 'info');
  const stderr = lineSink(sink, 'stderr', 'warn');
  const stdoutStream = new OutputStream(stdout.write, stdout.flush);
  const stderrStream = new OutputStream(stderr.write, stderr.flush);
  const env: Array<[string, string]> = [];
  for (const name of policy.allowedEnv) {
    const v = process.env[name];
    if (v !== undefined) env.push([name, v]);
  }
  const preopens: Array<[Descriptor, string]> = policy.allowedFilesystem.map((g) => {
    const real = fs.realpathSync(g.hostPath);
    const isDir = fs.statSync(real).isDirectory();
    return [new Descriptor(real, isDir, real, g.perms, g.perms.fileRead, g.perms.fileWrite), g.guestPath];
  });

  const monotonic = {
    now: () => nowNs(),
    resolution: () => 1n,
    subscribeInstant: (when: bigint) => new Pollable(when),
    subscribeDuration: (ns: bigint) => new Pollable(nowNs() + ns),
  };
  const terminal = class {};
  class Network {}
  const sockets = {
    'wasi:sockets/network': { Network, networkErrorCode: () => undefined },
    // Rust's std asks for the instance network before connecting; it gets one that every socket
    // constructor then refuses, so the guest sees access-denied rather than a trap.
    'wasi:sockets/instance-network': { instanceNetwork: () => new Network() },
    'wasi:sockets/tcp': { TcpSocket: deniedClass('tcp') },
    'wasi:sockets/tcp-create-socket': {
      createTcpSocket: () => {
        throw DENIED;
      },
    },
    'wasi:sockets/udp': {
      UdpSocket: deniedClass('udp'),
      IncomingDatagramStream: class {},
      OutgoingDatagramStream: class {},
    },
    'wasi:sockets/udp-create-socket': {
      createUdpSocket: () => {
        throw DENIED;
      },
    },
    'wasi:sockets/ip-name-lookup': {
      ResolveAddressStream: class {},
      resolveAddresses: () => {
        throw DENIED;
      },
    },
  };

  const handle = (req: OutgoingRequest) => {
    const scheme =
      req.scheme()?.tag === 'HTTPS'
        ? 'https'
        : req.scheme()?.tag === 'HTTP'
          ? 'http'
          : (req.scheme()?.val ?? 'https');
    const authority = req.authority() ?? '';
    const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(authority);
    const host = (m?.[1] ?? m?.[2] ?? '').toLowerCase();
    const port = m?.[3] ? Number(m[3]) : undefined;
    const method = (req.method().tag === 'other' ? req.method().val : req.method().tag) ?? 'get';
    const allowed = host !== '' && networkAllows(policy.allowedNetwork, { scheme, host, port, method });
    if (!allowed) {
      sink(
        'log',
        'warn',
        `outgoing HTTP ${method.toUpperCase()} ${scheme}://${authority} denied by sandbox_policy.allowed_network`,
      );
      throw { tag: 'HTTP-request-denied' };
    }
    const url = `${scheme}://${authority}${req.pathWithQuery() ?? '/'}`;
    return new FutureIncomingResponse(() => {
      const headers = req
        .headers()
        .entries()
        .map(([k, v]) => [k, dec.decode(v)] as [string, string]);
      const chunks = req.bodyObj.chunks;
      const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let off = 0;
      for (const c of chunks) {
        body.set(c, off);
        off += c.length;
      }
      return fetchSync(url, method.toUpperCase(), headers, body, opts.httpTimeoutMs);
    });
  };

  const levels = ['trace', 'debug', 'info', 'warn', 'error'];
  return {
    'wasi:cli/environment': {
      getEnvironment: () => env.map(([k, v]) => [k, v]),
      getArguments: () => [],
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit: (status: { tag: string }) => {
        stdout.flush();
        stderr.flush();
        throw new GuestExit(status?.tag === 'ok' ? 0 : 1);
      },
      exitWithCode: (code: number) => {
        throw new GuestExit(code);
      },
    },
    'wasi:cli/run': {},
    'wasi:cli/stdin': { getStdin: () => emptyInput() },
    'wasi:cli/stdout': { getStdout: () => stdoutStream },
    'wasi:cli/stderr': { getStderr: () => stderrStream },
    'wasi:cli/terminal-input': { TerminalInput: terminal },
    'wasi:cli/terminal-output': { TerminalOutput: terminal },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:clocks/monotonic-clock': monotonic,
    'wasi:clocks/wall-clock': {
      now: () => timestamp(Date.now()),
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    },
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: () => undefined,
    },
    'wasi:filesystem/preopens': { getDirectories: () => preopens },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable, poll },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/random': {
      getRandomBytes: (len: bigint) => new Uint8Array(randomBytes(Number(len))),
      getRandomU64: () => randomBytes(8).readBigUInt64LE(),
    },
    'wasi:random/insecure': {
      getInsecureRandomBytes: (len: bigint) => randomFillSync(new Uint8Array(Number(len))),
      getInsecureRandomU64: () => randomBytes(8).readBigUInt64LE(),
    },
    'wasi:random/insecure-seed': {
      insecureSeed: () => [randomBytes(8).readBigUInt64LE(), randomBytes(8).readBigUInt64LE()],
    },
    ...sockets,
    'wasi:http/types': {
      Fields,
      OutgoingRequest,
      OutgoingBody,
      RequestOptions,
      FutureIncomingResponse,
      IncomingResponse,
      IncomingBody,
      FutureTrailers,
      IncomingRequest: class {},
      OutgoingResponse: class {},
      ResponseOutparam: class {},
      httpErrorCode: () => undefined,
    },
    'wasi:http/outgoing-handler': { handle },
    'cpex:plugin/types': {},
    'cpex:plugin/host-logging': {
      log: (level: string | number, message: string) => {
        const name = typeof level === 'number' ? (levels[level] ?? 'info') : level;
        sink('log', name, message);
      },
    },
  };
}
