// A supervised Node child (what host-native's `isolation: process` runs): the in-child half of
// the supervisor, then a plain child and a setsid'd one (`detached`), pids printed, then it waits.
import { spawn } from 'node:child_process';
import { watchLifeline } from '@cpex/core/host';

const watching = watchLifeline();
const plain = spawn('sleep', ['1000'], { stdio: 'ignore' });
const escaped = spawn('sleep', ['1000'], { stdio: 'ignore', detached: true }); // setsid: own session
escaped.unref();
process.stdout.write(`${JSON.stringify({ watching, pids: [process.pid, plain.pid, escaped.pid] })}\n`);
if (process.argv[2] === 'exit-keeping-pipes') {
  // A grandchild holds our stdout open; we exit: the supervisor must see the exit anyway.
  spawn('sleep', ['1000'], { stdio: ['ignore', 'inherit', 'inherit'] }).unref();
  setTimeout(() => process.exit(5), 50);
} else setInterval(() => {}, 1000);
