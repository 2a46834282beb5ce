import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/**
 * The settings every vitest project shares: tests run against the packages' sources
 * (the `source` export condition), never against a build.
 */
export function baseProject(name: string, extra: UserWorkspaceConfig['test'] = {}) {
  return defineProject({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
    test: { name, testTimeout: 30_000, hookTimeout: 30_000, ...extra },
  });
}
