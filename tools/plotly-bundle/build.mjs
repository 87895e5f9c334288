// Build the gdviz partial plotly.js bundle -> ../../static/plotly-gdviz.min.js
// Usage: npm ci && npm run build
import * as esbuild from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const plotlyVersion = require('plotly.js/package.json').version;
const outfile = path.resolve(here, '../../static/plotly-gdviz.min.js');
const TRACES = ['scatter', 'scatter3d', 'surface', 'contour', 'heatmap', 'bar'];

const result = await esbuild.build({
  entryPoints: [path.join(here, 'index.js')],
  bundle: true,
  format: 'iife',
  minify: true,
  write: false,
  target: 'es2016', // same target as plotly.js' own dist build (esbuild-config.js)
  legalComments: 'eof', // keep third-party licence comments (at the end of the file)
  // Settings mirrored from plotly.js' esbuild-config.js:
  alias: { regl: '@plotly/regl' },
  define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
  // src/registry.js require()s maplibre-gl's CSS only when a `map` subplot is registered;
  // we never register one, so drop CSS instead of emitting a stray .css file.
  loader: { '.css': 'empty' },
  logLevel: 'warning',
});

const header = `/**
* gdviz partial bundle of plotly.js v${plotlyVersion}
* Traces: ${TRACES.join(', ')}
* Built with esbuild from tools/plotly-bundle (npm ci && npm run build)
* plotly.js: MIT License, (c) Plotly, Inc. - https://github.com/plotly/plotly.js
*/
`;
const code = header + result.outputFiles[0].text;
writeFileSync(outfile, code);
const bytes = Buffer.byteLength(code);
console.log(`wrote ${path.relative(process.cwd(), outfile)}: ${bytes} bytes, ${gzipSync(code).length} gzip bytes`);
