// Builds the dashboard's page script and stylesheet (src/web/client) into dist/dashboard with
// esbuild: one minified ES module and one stylesheet, named by a hash of their content, and a
// manifest naming them for the server. `npm install` and `npm start` run it; so do the browser
// tests, so they always test the current source. Same source, same output.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DASHBOARD_BUILD_DIR } from '../src/web/dashboard-plugin.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BuiltDashboard {
  script: string;
  stylesheet: string;
  /** Bytes as shipped and gzipped, per file. */
  sizes: Record<string, { bytes: number; gzipBytes: number }>;
}

export async function buildDashboard(outDir = DASHBOARD_BUILD_DIR): Promise<BuiltDashboard> {
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { app: 'src/web/client/main.tsx' },
    outdir: outDir,
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox111', 'safari16'],
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const script = outputs.find(([, o]) => o.entryPoint !== undefined)?.[0];
  const stylesheet = outputs.find(([name]) => name.endsWith('.css'))?.[0];
  if (!script || !stylesheet) throw new Error(`the build made no script or no stylesheet: ${outputs.map(([n]) => n).join(', ')}`);
  const manifest = { script: basename(script), stylesheet: basename(stylesheet) };
  // The manifest is replaced in one step, so a server starting meanwhile reads the old or the new.
  const temporary = join(outDir, `manifest.${process.pid}.tmp`);
  writeFileSync(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(temporary, join(outDir, 'manifest.json'));
  for (const file of readdirSync(outDir)) {
    if (/^app-.*\.(js|css)$/.test(file) && file !== manifest.script && file !== manifest.stylesheet) rmSync(join(outDir, file), { force: true });
  }
  const sizes: BuiltDashboard['sizes'] = {};
  for (const file of [manifest.script, manifest.stylesheet]) {
    const body = readFileSync(join(outDir, file));
    sizes[file] = { bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length };
  }
  return { ...manifest, sizes };
}

if (import.meta.main) {
  const built = await buildDashboard();
  for (const [file, size] of Object.entries(built.sizes)) {
    process.stdout.write(`dashboard: dist/dashboard/${file} ${(size.bytes / 1024).toFixed(1)} KiB (${(size.gzipBytes / 1024).toFixed(1)} KiB gzipped)\n`);
  }
}
