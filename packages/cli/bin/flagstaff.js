#!/usr/bin/env node
// Installed entry point: runs the built CLI. In this repository `npm start` runs the sources instead.
import { main } from '../dist/esm/index.js';

main(process.argv.slice(2)).then((code) => {
  if (typeof code === 'number') process.exitCode = code;
});
