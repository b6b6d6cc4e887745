// How the project's own TypeScript tools (tests, bench, conformance) are
// bundled to run with plain node: ES modules, dependencies left in
// node_modules, and a require() for the CommonJS pieces they load.
import { build } from 'esbuild';

export const TOOL_BUNDLE = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};

export const bundleTool = (options) => build({ ...TOOL_BUNDLE, ...options });
