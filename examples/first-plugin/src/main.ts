// `pnpm --filter @cpex/example-first-plugin start`: two tool calls through the gateway and config.yaml.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway, type Tool } from './gateway.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const gateway = await startGateway(path.join(here, '../config.yaml'));
const upload: Tool = async (args) => ({ stored: Object.keys(args) });
for (const args of [{ file: 'notes.txt' }, { key: '-----BEGIN PRIVATE KEY-----' }]) {
  const outcome = await gateway.callTool('alice', 'upload', args, upload);
  console.log(JSON.stringify(args), '→', JSON.stringify(outcome));
}
await gateway.close();
