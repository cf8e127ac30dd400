import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** `npm run dev -w web` proxies the API to a server on :3000; the built console is served by the server itself. */
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/trpc': { target: 'http://127.0.0.1:3000', ws: true },
      '/readyz': 'http://127.0.0.1:3000',
    },
  },
});
