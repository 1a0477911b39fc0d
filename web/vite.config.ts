/**
 * Builds the dashboard (a React single-page app) into dist/web, which `keyward serve` serves at `/`.
 * `npm run build` runs it after tsc; `npx vite --config web/vite.config.ts` serves it with hot reload,
 * proxying the API to a `keyward serve` on port 8787.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vite';
import react from '@vitejs/plugin-react';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

const config = {
  root: webRoot,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles: the server's Content-Security-Policy allows only same-origin files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8787' },
  },
} satisfies UserConfig;

export default defineConfig(({ command }) => {
  // A build is always a production build, even when started from a test run (vitest sets NODE_ENV=test,
  // which would otherwise bundle React's development build and its JSX checks).
  if (command === 'build') process.env.NODE_ENV = 'production';
  return config;
});
