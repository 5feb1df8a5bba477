#!/usr/bin/env node
// Runs the built relay (npm run build first); startup failures exit non-zero as LaunchDarkly's Relay does.
import { main } from '../dist/esm/main.js';

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
