/**
 * The layering rule: fhir-mappings/ imports only from itself, vocabulary/ and @medplum/*; vocabulary/ imports
 * nothing. Checked twice: statically (every import of every file, as TypeScript reads them) and at run time
 * (what loading fhir-mappings/index.ts really pulls in, recorded by a module resolve hook in a child node).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = process.cwd();
const MAPPINGS = path.join(root, 'fhir-mappings');
const VOCABULARY = path.join(root, 'vocabulary');
/** Never acceptable from either folder, not even in a test. */
const FORBIDDEN_PACKAGES = /^(type-graphql|@mikro-orm\/|reflect-metadata$|graphql$)/;

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier a file names: import/export … from, side-effect imports, import(), require(). */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

const isTestCode = (file: string) => file.endsWith('.test.ts') || file.includes(`${path.sep}test-support${path.sep}`);
const within = (file: string, dir: string) => file === dir || file.startsWith(dir + path.sep);

/** Why an import breaks the rule, or undefined when it keeps it. */
function violation(file: string, specifier: string): string | undefined {
  if (FORBIDDEN_PACKAGES.test(specifier)) return 'a GraphQL / ORM package';
  if (specifier.startsWith('.')) {
    const target = path.resolve(path.dirname(file), specifier);
    if (within(target, path.join(root, 'src'))) return 'src/';
    if (within(file, VOCABULARY)) return within(target, VOCABULARY) ? undefined : 'outside vocabulary/';
    if (isTestCode(file)) return undefined;
    return within(target, MAPPINGS) || within(target, VOCABULARY) ? undefined : 'outside fhir-mappings/ and vocabulary/';
  }
  if (within(file, VOCABULARY)) return 'a package (vocabulary/ has no dependencies)';
  if (isTestCode(file)) return undefined;
  return specifier.startsWith('@medplum/') ? undefined : 'a package other than @medplum/*';
}

test('the import reader sees every form of import', () => {
  const source = [
    "import { A } from '../src/a.js';",
    "import type { B } from './b.js';",
    "export * from 'type-graphql';",
    "import './side-effect.js';",
    "const c = await import('@mikro-orm/core');",
  ].join('\n');
  expect(importsOf(source)).toEqual(['../src/a.js', './b.js', 'type-graphql', './side-effect.js', '@mikro-orm/core']);
  const file = path.join(MAPPINGS, 'x.ts');
  expect(violation(file, '../src/a.js')).toBe('src/');
  expect(violation(file, 'type-graphql')).toBeDefined();
  expect(violation(file, '../vocabulary/index.js')).toBeUndefined();
  expect(violation(path.join(VOCABULARY, 'x.ts'), '../fhir-mappings/codes.js')).toBeDefined();
});

test('fhir-mappings/ imports only itself, vocabulary/ and @medplum/*; vocabulary/ imports nothing outside itself', () => {
  const files = [...tsFiles(MAPPINGS), ...tsFiles(VOCABULARY)];
  expect(files.length).toBeGreaterThan(20);
  const broken = files.flatMap((file) =>
    importsOf(fs.readFileSync(file, 'utf8')).flatMap((specifier) => {
      const why = violation(file, specifier);
      return why ? [`${path.relative(root, file)}: '${specifier}' (${why})`] : [];
    }),
  );
  expect(broken).toEqual([]);
});

// Resolve and load hooks for the child: .js specifiers fall back to the .ts beside them, .ts is transpiled
// (TypeScript's transpileModule, no type check), and every module resolved is appended to a log file.
const HOOKS = `
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
let log, ts;
export function initialize(data) {
  log = data.log;
  ts = createRequire(data.root + '/package.json')('typescript');
}
export async function resolve(specifier, context, next) {
  let result;
  try {
    result = await next(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !specifier.startsWith('.') || !specifier.endsWith('.js')) throw error;
    result = await next(specifier.slice(0, -3) + '.ts', context);
  }
  fs.appendFileSync(log, result.url + '\\n');
  return result;
}
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(fs.readFileSync(fileName, 'utf8'), {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
    },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
`;

test('loading fhir-mappings/index.ts loads nothing of src/, type-graphql or MikroORM', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layering-'));
  try {
    const hooks = path.join(dir, 'hooks.mjs');
    const log = path.join(dir, 'resolved.log');
    fs.writeFileSync(hooks, HOOKS);
    fs.writeFileSync(log, '');
    const main = `
      import { register } from 'node:module';
      register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: ${JSON.stringify(log)}, root: ${JSON.stringify(root)} } });
      const m = await import(${JSON.stringify(pathToFileURL(path.join(MAPPINGS, 'index.ts')).href)});
      process.stdout.write(JSON.stringify(Object.keys(m.mappings)));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', main], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect({ status: child.status, stderr: child.stderr }).toMatchObject({ status: 0 });
    expect(JSON.parse(child.stdout)).toContain('Patient');

    // Resolved URLs are real paths (node_modules may be a symlink): packages are told by their node_modules
    // segment, first-party files by where they are in the (real) checkout.
    const real = fs.realpathSync(root);
    const loaded = [...new Set(fs.readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:')))].map((u) => fileURLToPath(u));
    const packageOf = (file: string) => {
      const i = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
      if (i < 0) return undefined;
      const [scope, name] = file.slice(i + 14).split(path.sep);
      return scope.startsWith('@') ? `${scope}/${name}` : scope;
    };
    const ours = loaded.filter((f) => packageOf(f) === undefined).map((f) => path.relative(real, f));
    const packages = new Set(loaded.map(packageOf).filter((p) => p !== undefined));
    // The hooks saw the graph (not a vacuous pass): the mappings, the vocabulary and @medplum/core.
    expect(ours).toContain(path.join('fhir-mappings', 'codes.ts'));
    expect(ours).toContain(path.join('vocabulary', 'index.ts'));
    expect(packages).toContain('@medplum/core');

    const offending = [
      ...ours.filter((p) => !p.startsWith('fhir-mappings' + path.sep) && !p.startsWith('vocabulary' + path.sep)),
      ...[...packages].filter((p) => FORBIDDEN_PACKAGES.test(p)),
    ];
    expect(offending).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
