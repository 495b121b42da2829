// Shared vitest settings: every project resolves @cpex/* packages to their TypeScript
// sources through the "@cpex/source" export condition, so tests need no build step.
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const conditions = ['@cpex/source', 'module', 'node', 'import', 'default'];

export function cpexProject(name: string, extra: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@cpex/source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 20_000,
      ...extra,
    },
  });
}
