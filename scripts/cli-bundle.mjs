// The londiste command as one file. Node 20 loads ES modules one file at a time (resolve, read,
// compile each): the command imports about 360 of them, which took 0.2 s of every londiste command
// before it did anything. Bundled into one file it starts in about 0.1 s. The bundle is built from
// tsc's output of the entry (dist/entry/londiste.js) into the path the package's bin names
// (dist/bin/londiste.js), so everything that runs the command (tests, make install, the demo) runs
// the bundle. The daemons stay unbundled: they start once.
//
// `node scripts/cli-bundle.mjs` builds it (npm run build does, after tsc); run-tests.mjs asks
// staleBundles() so that no test runs a bundle older than the code it was built from.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const BUNDLES = [
  { entry: 'packages/londiste/dist/entry/londiste.js', out: 'packages/londiste/dist/bin/londiste.js', from: ['packages/core/dist', 'packages/pgq/dist', 'packages/londiste/dist'] },
];

/**
 * yargs, cliui and wrap-ansi import string-width, which builds an Intl.Segmenter and large Unicode
 * regular expressions as it loads: 23-34 ms of every start (two versions, three copies bundled), for
 * help and usage text only. In the bundle each import of it gets a stand-in that loads the real
 * module the first time it measures a string (esbuild evaluates a require()d module lazily).
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'real' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-string-width' };
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      contents: `let real;\nexport default function stringWidth(text, options) {\n  real ??= require(${JSON.stringify(args.path)}).default;\n  return real(text, options);\n}\n`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

export async function bundleCli() {
  // esbuild is a development dependency: imported here only, never at run time
  const { build } = await import('esbuild');
  for (const b of BUNDLES) {
    await build({
      entryPoints: [join(ROOT, b.entry)],
      outfile: join(ROOT, b.out),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // pg loads pg-native only when asked for pg.native, which nothing here does
      external: ['pg-native'],
      // the bundled CommonJS dependencies require Node's own modules
      banner: { js: "import { createRequire as bundleCreateRequire } from 'node:module';\nconst require = bundleCreateRequire(import.meta.url);" },
      plugins: [lazyStringWidth],
      logLevel: 'warning',
    });
  }
}

function newestJs(dir, skip, newest = 0) {
  if (!existsSync(dir)) return newest;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = newestJs(p, skip, newest);
    else if (e.name.endsWith('.js') && p !== skip) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The bundles missing or older than a compiled module they are built from, the installed dependencies or this script. */
export function staleBundles() {
  // npm ci rewrites this file: pg, yargs and the rest inside the bundle may have changed; and
  // this script's own changes (its plugin, its options) make a different bundle
  const lock = join(ROOT, 'node_modules', '.package-lock.json');
  const installed = Math.max(existsSync(lock) ? statSync(lock).mtimeMs : 0, statSync(fileURLToPath(import.meta.url)).mtimeMs);
  return BUNDLES.filter((b) => {
    const out = join(ROOT, b.out);
    if (!existsSync(out)) return true;
    const built = statSync(out).mtimeMs;
    return installed > built || b.from.some((d) => newestJs(join(ROOT, d), out) > built);
  }).map((b) => b.out);
}

// run as a script (also through a symbolic link to it), not imported
const invokedAs = (arg) => {
  try {
    return pathToFileURL(realpathSync(arg)).href;
  } catch {
    return undefined;
  }
};
if (process.argv[1] !== undefined && import.meta.url === invokedAs(process.argv[1])) {
  await bundleCli();
}
