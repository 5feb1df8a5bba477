// `npm start` entry in this repository: runs the CLI from its TypeScript sources.
import { main } from './index.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`flagstaff: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
