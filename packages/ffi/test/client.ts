// A minimal protocol client over a real Unix socket for the sidecar tests: requests by id,
// answers matched by id (answers for no waiting id are kept in `unmatched`).
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrameReader, frame, packValue, unpackValue } from '../src/wire.js';

export type Answer = Record<string, unknown> & { id: number; rc: number };

export class Client {
  private readonly socket: net.Socket;
  private readonly reader = new FrameReader();
  private readonly waiting = new Map<number, (a: Answer) => void>();
  readonly unmatched: Answer[] = [];
  private next = 1;
  /** Resolves when the server closed the connection (or it broke). */
  readonly ended: Promise<void>;
  constructor(sock: string) {
    this.socket = net.connect(sock);
    this.ended = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', () => {});
    this.socket.on('data', (chunk) => {
      for (const ev of this.reader.push(chunk)) {
        if (ev.kind !== 'frame') continue;
        const a = (
          ev.body[0] === 0x7b ? JSON.parse(Buffer.from(ev.body).toString()) : unpackValue(ev.body)
        ) as Answer;
        const w = this.waiting.get(a.id);
        if (w) {
          this.waiting.delete(a.id);
          w(a);
        } else this.unmatched.push(a);
      }
    });
  }
  /** Send a MessagePack request (its id is assigned) and wait for its answer. */
  call(req: Record<string, unknown>): Promise<Answer> {
    const id = this.next++;
    return this.expect(id, () => this.socket.write(frame(packValue({ id, ...req }))));
  }
  /** Wait for the answer to `id` after `send` wrote a frame carrying it. */
  expect(id: number, send: () => void): Promise<Answer> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      send();
    });
  }
  /** A fresh id for a hand-made frame. */
  id(): number {
    return this.next++;
  }
  raw(body: Uint8Array): void {
    this.socket.write(frame(body));
  }
  bytes(b: Uint8Array): void {
    this.socket.write(b);
  }
  close(): void {
    this.socket.destroy();
  }
}

/** The repository root (tsx and the workspace packages resolve from here). */
export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** `cpex serve ARGS` as a real process, from source (no build needed), run from the repo root. */
export function spawnServe(args: string[], stdio: StdioOptions): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--conditions=@cpex/source',
      '--import',
      'tsx',
      path.join(repo, 'packages/cli/src/bin.ts'),
      'serve',
      ...args,
    ],
    { cwd: repo, stdio },
  );
}
