/**
 * Two gateway processes sharing one Redis: a request on gateway A taints the session, the next
 * request of that session lands on gateway B and is denied there. Starts a throwaway redis-server
 * on a free localhost port unless REDIS_URL is set.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '@cpex/session-redis/testing';

const here = path.dirname(fileURLToPath(import.meta.url));

// A throwaway redis-server on a free port, answering PING before the gateways start.
let redis: RedisServer | undefined;
let url = process.env.REDIS_URL;
if (!url) {
  redis = await RedisServer.start();
  url = redis.url;
}

function gateway(name: string) {
  const proc = spawn(process.execPath, [...process.execArgv, path.join(here, 'gateway.ts'), name, url!], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return {
    proc,
    async next(): Promise<Record<string, unknown>> {
      const { value } = await lines.next();
      return JSON.parse(value as string);
    },
    async send(req: object) {
      proc.stdin!.write(`${JSON.stringify(req)}\n`);
      return this.next();
    },
  };
}

const a = gateway('gateway-a');
const b = gateway('gateway-b');
try {
  console.log(await a.next(), await b.next());
  const alice = { subject: 'alice', session: 'chat-42' };
  console.log(await a.send({ ...alice, tool: 'read_secret' })); // allowed, session tainted (in Redis)
  console.log(await b.send({ ...alice, tool: 'send_mail' })); // denied on the OTHER replica
  console.log(await b.send({ subject: 'bob', session: 'chat-42', tool: 'send_mail' })); // another subject: allowed
} finally {
  for (const g of [a, b]) g.proc.stdin!.end();
  await Promise.all([a, b].map((g) => new Promise((r) => g.proc.once('exit', r))));
  await redis?.stop();
}
