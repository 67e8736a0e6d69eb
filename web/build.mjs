// Bundles the browser client into ../vuer_ros/client_build/ (served by the Python server).
//   node build.mjs           minified production bundle
//   node build.mjs --dev     unminified, with an external source map
//   node build.mjs --watch   rebuild on change (implies --dev)
//   node build.mjs --xr-emulation OUTDIR
//                            tests only: OUTDIR/xr-emulation.js, a WebXR runtime emulating a
//                            headset (iwer, a dev dependency) and the tests' XR_TEST RPC
//                            (test/xr-emulation.js); never part of client_build/
import * as esbuild from 'esbuild';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', 'vuer_ros', 'client_build');
const watch = process.argv.includes('--watch');
const dev = watch || process.argv.includes('--dev');
const target = ['chrome110', 'firefox115', 'safari16'];

// The JPEG/PNG encoder runs in a Web Worker. It is bundled first and inlined into
// client.js as a string (started from a blob URL), so the page needs no second fetch
// and works whatever path the server mounts the bundle under.
async function buildWorkerSource() {
  const res = await esbuild.build({
    entryPoints: [join(here, 'src', 'encode-worker.js')],
    bundle: true, write: false, format: 'iife', minify: !dev, target,
  });
  return res.outputFiles[0].text;
}

const inlineWorker = {
  name: 'inline-worker',
  setup(build) {
    build.onResolve({ filter: /^virtual:encode-worker$/ }, () => ({ path: 'encode-worker', namespace: 'inline-worker' }));
    build.onLoad({ filter: /.*/, namespace: 'inline-worker' }, async () => ({
      contents: `export default ${JSON.stringify(await buildWorkerSource())};`,
      loader: 'js',
      watchFiles: [join(here, 'src', 'encode-worker.js')],
    }));
  },
};

// The font the server gives the Vuer client for Text (it would fetch one from a CDN):
// Roboto, the font its Text (troika) uses by default, latin subset (21 KB).
const VUER_TEXT_FONT = '@fontsource/roboto/files/roboto-latin-400-normal.woff';

const copyHtml = {
  name: 'copy-html',
  setup(build) {
    build.onEnd(async (result) => {
      if (result.errors.length) return;
      await copyFile(join(here, 'index.html'), join(outdir, 'index.html'));
      await mkdir(join(outdir, 'fonts'), { recursive: true });
      await copyFile(join(here, 'node_modules', VUER_TEXT_FONT), join(outdir, 'fonts', 'vuer-text.woff'));
    });
  },
};

const options = {
  entryPoints: [join(here, 'src', 'main.js')],
  outfile: join(outdir, 'client.js'),
  bundle: true,
  format: 'iife',
  target,
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  legalComments: 'none',
  loader: { '.json': 'json' },
  logLevel: 'warning',
  plugins: [inlineWorker, copyHtml],
};

// tests only: iwer + the XR_TEST RPC, into a folder a test serves
async function buildXrEmulation(dir) {
  await mkdir(dir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(here, 'test', 'xr-emulation.js')],
    outfile: join(dir, 'xr-emulation.js'),
    bundle: true, format: 'iife', target, minify: false, legalComments: 'none', logLevel: 'warning',
  });
  console.log(`built ${join(dir, 'xr-emulation.js')}`);
}

const emulationAt = process.argv.indexOf('--xr-emulation');
if (emulationAt >= 0) {
  const dir = process.argv[emulationAt + 1];
  if (!dir) throw new Error('--xr-emulation needs an output folder');
  await buildXrEmulation(dir);
} else if (watch) {
  await mkdir(outdir, { recursive: true });
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`watching; output in ${outdir}`);
} else {
  await mkdir(outdir, { recursive: true });
  const t0 = performance.now();
  await esbuild.build(options);
  const size = (await stat(options.outfile)).size;
  console.log(`built ${options.outfile} (${(size / 1024).toFixed(0)} KiB) in ${(performance.now() - t0).toFixed(0)} ms`);
}
