import { defineConfig } from 'vitest/config';

// In-process native plugins each may hold one libuv pool thread, and @cpex/host-native refuses
// more of them than UV_THREADPOOL_SIZE. The conformance scenarios (up to 7 plugins each) run on
// the native host too, so test workers (forked from here, inheriting this environment) get 16.
process.env.UV_THREADPOOL_SIZE ??= '16';

export default defineConfig({
  test: {
    projects: ['packages/*', 'conformance', 'examples/*', 'docs'],
    typecheck: { enabled: true, include: ['**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
