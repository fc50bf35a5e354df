/**
 * The operator console (src/frontend) builds to dist/public: the web process serves it locally and the
 * same files go to S3 behind CloudFront. Nothing is inlined into index.html or as data: URIs, so the
 * strict Content-Security-Policy (script/style/img 'self' only) holds.
 * Written as CommonJS (no import/export statements): this package is CommonJS and Vite loads the config
 * as such; ESM syntax here makes Vite warn on every build.
 */
const config: import('vite').UserConfig = {
  root: 'src/frontend',
  base: '/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../../dist/public',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    // `npx vite` for front-end work proxies the API to a running `npm start`.
    proxy: { '/api': 'http://localhost:3000' },
  },
};

module.exports = config;
