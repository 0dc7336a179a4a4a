// Builds dist/ only when a source changed since the last build, so that `npm run token`, `client`, `import` …
// start in about a second instead of waiting for the TypeScript compiler. tsc itself builds incrementally
// (tsconfig.build.json: dist/.tsbuildinfo), but even a no-op tsc run costs seconds: hence this mtime check.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const stamp = path.join(root, 'dist', '.tsbuildinfo');
const SOURCES = ['src', 'fhir-mappings', 'vocabulary', 'migrations', 'bench'];
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestInput() {
  let newest = 0;
  const visit = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p)) if (name !== 'node_modules') visit(path.join(p, name));
    } else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const dir of SOURCES) visit(path.join(root, dir));
  for (const file of CONFIGS) if (fs.existsSync(path.join(root, file))) newest = Math.max(newest, fs.statSync(path.join(root, file)).mtimeMs);
  return newest;
}

const force = process.argv.includes('--force');
const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
if (force || newestInput() > built) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  // tsc leaves the build info untouched when nothing changed; the stamp must say "checked now".
  const now = new Date();
  fs.utimesSync(stamp, now, now);
}
