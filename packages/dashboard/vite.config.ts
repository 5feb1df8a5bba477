import { defaultClientConditions, defineConfig, loadEnv } from 'vite';

/*
 * The dashboard build. `root` is the caller's: `npm run build -w @flagstaff/dashboard` runs here, and
 * `flagstaff dev` and the browser tests pass this directory. No plugins: JSX goes through esbuild with
 * Preact's automatic runtime, and workspace packages (@flagstaff/eval) are bundled from their
 * TypeScript sources through the `flagstaff-source` export condition.
 */
export default defineConfig(({ mode }) => {
  // `npm run dev -w @flagstaff/dashboard` proxies the API to a running flag service.
  const env = loadEnv(mode, '.', 'FLAGSTAFF_');
  const target = env.FLAGSTAFF_URL ?? 'http://127.0.0.1:8040';
  return {
    base: '/',
    esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
    resolve: { conditions: ['flagstaff-source', ...defaultClientConditions] },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      chunkSizeWarningLimit: 300,
      reportCompressedSize: false,
    },
    server: {
      port: 5173,
      proxy: { '/api': { target, changeOrigin: false } },
    },
    logLevel: 'warn',
  };
});
