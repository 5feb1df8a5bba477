import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources, so tests never need a build first.
    conditions: ['flagstaff-source'],
  },
  // Vite 6+ gives tests (the SSR environment) their own resolve conditions; without this line they
  // import the stale built `dist` of workspace packages instead of their sources. The `module` condition
  // is left out: it selects bundler-only builds (AWS SDK v3's `dist-es`, extensionless imports) that
  // the tests then load natively and fail on; Node itself never uses that condition.
  ssr: {
    resolve: { conditions: ['flagstaff-source', ...defaultServerConditions.filter((c) => c !== 'module')] },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'infra/test/**/*.test.ts'],
    testTimeout: 60_000,
    reporters: ['default'],
  },
});
