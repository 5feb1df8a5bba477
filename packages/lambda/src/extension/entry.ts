// Entry point of the extension bundle (`extensions/flagstaff` in the layer).
import { runExtension } from './main.js';

runExtension().catch((err: unknown) => {
  // Exiting makes Lambda fail the init (or reset the environment), which is louder than a silent
  // extension that never delivers anything.
  process.stderr.write(`[flagstaff-extension] fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
