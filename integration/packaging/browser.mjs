// The web package as a page and its Service Worker import it, bundled for
// browsers with esbuild from the installed tarballs (see packaging.test.ts):
// nothing reachable from the root entry may import a Node built-in. Every
// export is re-exported, so the bundle keeps all of them.
export * from '@encrypted-stream/web';
