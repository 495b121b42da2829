// A gateway (own Node process) supervising one Node child; prints every pid and waits to be SIGKILLed.
import { spawnSupervised } from '@cpex/core/host';

const child = spawnSupervised({
  command: process.execPath,
  args: [
    '--conditions=@cpex/source',
    '--import',
    'tsx',
    new URL('./supervised-child.ts', import.meta.url).pathname,
  ],
});
child.stdout.on('data', (d: Buffer) => process.stdout.write(d));
child.stderr.pipe(process.stderr);
setInterval(() => {}, 1000);
