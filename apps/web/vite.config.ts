import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `pnpm dev`: Vite serves the app and forwards /api to the API server on 127.0.0.1:8080.
export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  worker: { format: 'es' },
  build: { sourcemap: false, target: 'es2022' },
});
