import { defineConfig } from 'vite';

// The dashboard is static files the control plane serves at `/` (apps/dashboard/dist). `npm run dev`
// serves it with hot reload and forwards the API to a control plane on MEDAD_API (default :4000).
const api = process.env.MEDAD_API ?? 'http://127.0.0.1:4000';

export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 300 },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: { proxy: { '/graphql': { target: api, ws: true }, '/images': api, '/healthz': api } },
});
