/**
 * Regenerates the parts of docs/ that come from code: docs/config.schema.json (from the zod
 * config schema) and the code tables of docs/errors.md (from the error catalogue).
 * Run: `pnpm gen:docs`. Tests fail when the committed files are stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/config/schema.js';
import { ERROR_CATALOGUE, MANAGER_VIOLATION_CODES } from '../src/errors/catalogue.js';

export const DOCS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs');
const BEGIN = '<!-- BEGIN GENERATED: pnpm gen:docs -->';
const END = '<!-- END GENERATED -->';

export function configSchemaText(): string {
  const schema = {
    $id: 'https://cpex.dev/schemas/config.schema.json',
    title: 'cpex plugin configuration',
    ...configJsonSchema(),
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export function errorsTable(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(([code, summary]) => `| \`${code}\` | ${summary} |`);
  const vrows = Object.entries(MANAGER_VIOLATION_CODES).map(
    ([code, summary]) => `| \`${code}\` | ${summary} |`,
  );
  return [
    '### Thrown errors (`CpexError.code`)',
    '',
    '| code | meaning |',
    '|---|---|',
    ...rows,
    '',
    '### Violation and error-record codes set by the manager (`violation.code`, `errors[].code`)',
    '',
    '| code | meaning |',
    '|---|---|',
    ...vrows,
  ].join('\n');
}

export function withGenerated(doc: string, generated: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error('docs/errors.md: generated-section markers missing');
  return `${doc.slice(0, a + BEGIN.length)}\n${generated}\n${doc.slice(b)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  writeFileSync(path.join(DOCS_DIR, 'config.schema.json'), configSchemaText());
  const errorsPath = path.join(DOCS_DIR, 'errors.md');
  writeFileSync(errorsPath, withGenerated(readFileSync(errorsPath, 'utf8'), errorsTable()));
  console.log('wrote docs/config.schema.json and docs/errors.md');
}
