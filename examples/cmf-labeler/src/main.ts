// The cmf-labeler example: loads config.yaml (a labeler and a guard on cmf.llm_input), sends the
// sample messages through a real PluginManager and prints each decision with the request labels.
//
//   pnpm --filter @cpex/example-cmf-labeler start
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PluginManager } from '@cpex/core';
import { labelsOf } from '@cpex/core/extensions';
import { SAMPLES } from './samples.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function run(log: (line: string) => void = console.log): Promise<void> {
  const manager = new PluginManager();
  await manager.loadConfig(path.resolve(here, '../config.yaml'));
  await manager.initialize();
  try {
    for (const sample of SAMPLES) {
      const result = await manager.invoke('cmf.llm_input', sample.payload, { extensions: sample.extensions });
      const labels = [...labelsOf(result.modifiedExtensions ?? sample.extensions)];
      const decision = result.continueProcessing
        ? 'allow'
        : `deny (${result.violation?.code}: ${result.violation?.reason})`;
      log(`${sample.title}: ${decision}; labels [${labels.join(', ')}]`);
    }
  } finally {
    await manager.shutdown();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
