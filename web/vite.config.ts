import { defineConfig } from 'vite';

// The registry the development server forwards API calls to (`npm run dev`).
const registry = process.env.QUAY_DEV_REGISTRY ?? 'http://127.0.0.1:8080';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    // The polyfill is an inline script, which the Content-Security-Policy forbids.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2048,
    sourcemap: false,
    rollupOptions: {
      // React Router's "use client" markers mean nothing outside server components.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    proxy: Object.fromEntries(['/api', '/config', '/csrf_token', '/v2'].map((path) => [path, registry])),
  },
});
