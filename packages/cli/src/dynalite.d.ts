// dynalite ships no type declarations; this is the one call `flagstaff dev` makes.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  function dynalite(options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }): Server;
  export default dynalite;
}
