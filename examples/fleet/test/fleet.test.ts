// The fleet example end to end: two gateway processes, one redis-server, a taint that follows the session.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

it('a session tainted on gateway A is denied on gateway B', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@cpex/source', '--import', 'tsx', 'src/main.ts'],
    { cwd: dir, timeout: 100_000, env: { ...process.env, REDIS_URL: '' } },
  );
  expect(stdout).toMatch(/gateway: 'gateway-a',\s+tool: 'read_secret',\s+allowed: true/);
  expect(stdout).toMatch(
    /gateway: 'gateway-b',\s+tool: 'send_mail',\s+allowed: false,\s+violation: 'tainted'/,
  );
  expect(stdout).toMatch(/gateway: 'gateway-b',\s+tool: 'send_mail',\s+allowed: true/);
});
