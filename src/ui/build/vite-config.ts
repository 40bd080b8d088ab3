// Vite's configuration for the dashboard: Preact's JSX, hashed file names under assets/ (served with
// a year-long cache), no inline scripts (the Content-Security-Policy forbids them).
import type { InlineConfig } from 'vite'

export function viteConfig(root: string, outDir: string): InlineConfig {
  return {
    root,
    base: '/',
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: {
      outDir,
      emptyOutDir: true,
      assetsDir: 'assets',
      // No inline modulepreload polyfill: every script is a file under assets/.
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 1024,
      sourcemap: false,
    },
  }
}
