/**
 * Uses ringbus the way another project does, from the package a user installs.
 *
 * Packs the package (`npm pack`, which builds it through `prepare`), checks the tarball holds
 * what `exports` points at and no tests, installs it into a scratch app in a temporary
 * directory, type-checks an ESM file and a CommonJS file that import every subpath of
 * `exports` under strict settings (`skipLibCheck: false`), once with a Node-only `lib`
 * (`ES2022`, types node) and once with the DOM lib, then runs both files.
 *
 * The scratch app installs the tools at the versions in this repository's lockfile, so the
 * check does not change when a newer TypeScript or `@types/node` is published.
 *
 * Usage: `npm run check:consumer` (add `-- --keep` to keep the scratch directory).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');

interface PackageJson {
  name: string;
  exports: Record<string, string | Record<string, string>>;
}
interface LockFile {
  packages: Record<string, { version?: string }>;
}
interface PackResult {
  filename: string;
  files: { path: string }[];
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as LockFile;

/** The version this repository's lockfile holds for `name`. */
function locked(name: string): string {
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (version === undefined) throw new Error(`consumer-check: ${name} is not in package-lock.json`);
  return version;
}

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`consumer-check: \`${cmd} ${args.join(' ')}\` failed in ${cwd}\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

/** Every module `exports` offers, e.g. `ringbus`, `ringbus/codec` (`ringbus/package.json` is imported on its own). */
const subpaths = Object.keys(pkg.exports)
  .filter((key) => !key.endsWith('.json'))
  .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));

/** The files `exports` points at (`types` and `default` of each subpath), relative to the package. */
const targets = Object.values(pkg.exports).flatMap((entry) =>
  typeof entry === 'string' ? [entry] : [entry['types'], entry['default']].filter((t): t is string => t !== undefined),
);

function checkTarball(files: string[]): void {
  const have = new Set(files);
  const missing = targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !have.has(t));
  if (missing.length > 0) throw new Error(`consumer-check: the tarball lacks what exports points at: ${missing.join(', ')}`);
  const tests = files.filter((f) => /(^|\/)(test|tests|__tests__)\/|\.test\.|\.spec\./.test(f));
  if (tests.length > 0) throw new Error(`consumer-check: the tarball holds tests: ${tests.slice(0, 5).join(', ')}`);
  const outside = files.filter((f) => !/^(dist|src|bin)\/|^(package\.json|README\.md|LICENSE)$/.test(f));
  if (outside.length > 0) throw new Error(`consumer-check: the tarball holds unexpected files: ${outside.slice(0, 5).join(', ')}`);
}

/**
 * The program both module formats run: imports every subpath, then uses the main entry,
 * an operator, a codec and file storage. `{{IMPORTS}}` and `{{NAMESPACES}}` are filled in.
 */
const program = `{{IMPORTS}}
import { inspect } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus, isRingbusError, type Delivery, type Topic, type TopicStats } from 'ringbus';
import { handle, type HandleOutcome } from 'ringbus/operators';
import { decodeFrame, encodeFrame, gzip, msgpack, type Codec } from 'ringbus/codec';
import { fileStorage } from 'ringbus/node';
import { firstValueFrom, take, toArray } from 'rxjs';

interface Order {
  readonly id: number;
  readonly at: Date;
}

async function main(format: string): Promise<void> {
  const namespaces: Record<string, object> = {{NAMESPACES}};
  for (const [name, ns] of Object.entries(namespaces)) {
    const keys = Object.keys(ns);
    if (keys.length === 0) throw new Error(name + ' exports nothing');
    for (const key of keys) {
      if ((ns as Record<string, unknown>)[key] === undefined) throw new Error(name + '.' + key + ' is undefined');
    }
  }

  if (manifest.name !== 'ringbus') throw new Error('ringbus/package.json names ' + manifest.name);

  const bus = createBus();
  const codec: Codec<Order> = msgpack;
  const orders: Topic<Order> = bus.topic<Order>('orders', { codec, compression: gzip, groups: ['billing'] });
  await orders.publish({ id: 1, at: new Date(0) });
  const consumer = orders.consumer({ group: 'billing' });
  const delivery: Delivery<Order> | undefined = await consumer.recv();
  if (delivery === undefined || delivery.value.at.getTime() !== 0) throw new Error('msgpack topic lost the Date');
  const printed = inspect(delivery);
  if (printed.split('\\n').length > 10 || !printed.includes('deliveryCount') || printed.includes('Group')) throw new Error('inspect(delivery) is not short: ' + printed);
  delivery.ack();
  await consumer.close();

  const jobs = bus.topic<number>('jobs', { groups: ['workers'] });
  const outcomes = firstValueFrom(
    jobs.messages({ group: 'workers' }).pipe(handle(async (n: number) => n * 2), take(2), toArray()),
  );
  await jobs.publish(1);
  await jobs.publish(2);
  const results = (await outcomes).map((o: HandleOutcome<number, number>) => (o.ok ? o.result : -1));
  if (results.join() !== '2,4') throw new Error('handle gave ' + results.join());

  const stats: TopicStats = orders.stats();
  if (stats.published !== 1) throw new Error('stats.published is ' + stats.published);
  if ((decodeFrame(encodeFrame({ ok: true })) as { ok: boolean }).ok !== true) throw new Error('frame round trip');

  const dir = mkdtempSync(join(tmpdir(), 'ringbus-consumer-storage-'));
  try {
    const durable = createBus({ storage: fileStorage(dir) });
    await durable.topic<string>('log').publish('kept');
    await durable.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    bus.topic('orders', { capacity: 3 });
    throw new Error('orders was asked again with another capacity and accepted');
  } catch (error) {
    if (!isRingbusError(error)) throw error;
  }
  await bus.close();
  console.log(format + ' ok ' + Object.keys(namespaces).join(' '));
}
`;

function source(format: 'esm' | 'cjs'): string {
  const manifest =
    format === 'esm'
      ? `import manifest from '${pkg.name}/package.json' with { type: 'json' };`
      : `import manifest = require('${pkg.name}/package.json');`;
  const imports = [manifest, ...subpaths.map((s, i) => `import * as entry${i} from '${s}';`)].join('\n');
  const namespaces = `{ ${subpaths.map((s, i) => `'${s}': entry${i}`).join(', ')} }`;
  const body = program.replace('{{IMPORTS}}', imports).replace('{{NAMESPACES}}', namespaces);
  const start =
    format === 'esm'
      ? `await main('esm');\n`
      : `main('cjs').catch((error: unknown) => {\n  console.error(error);\n  process.exitCode = 1;\n});\n`;
  // CommonJS: this file is compiled to `require` calls, so the CJS run loads ringbus through require().
  return `${body}\n${start}`;
}

function tsconfig(lib: string[], emit: boolean): string {
  return JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib,
        types: ['node'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        noImplicitOverride: true,
        resolveJsonModule: true,
        verbatimModuleSyntax: false,
        ...(emit ? { outDir: 'out' } : { noEmit: true }),
      },
      files: ['esm.mts', 'cjs.cts'],
    },
    null,
    2,
  );
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'ringbus-consumer-'));
  try {
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], root)) as PackResult[];
    if (packed === undefined) throw new Error('consumer-check: npm pack printed nothing');
    checkTarball(packed.files.map((f) => f.path));

    const app = join(dir, 'app');
    run('mkdir', ['-p', app], dir);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'ringbus-consumer',
          private: true,
          // ringbus's own dependencies at the lockfile's versions
          overrides: { '@msgpack/msgpack': locked('@msgpack/msgpack'), fflate: locked('fflate'), uplot: locked('uplot') },
        },
        null,
        2,
      ),
    );
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(dir, packed.filename),
        `rxjs@${locked('rxjs')}`,
        `ix@${locked('ix')}`,
        // the optional peer dependency of ringbus/otel, which a user of that subpath installs
        `@opentelemetry/api@${locked('@opentelemetry/api')}`,
        // the optional peer dependencies of ringbus/nats
        `@nats-io/jetstream@${locked('@nats-io/jetstream')}`,
        `@nats-io/transport-node@${locked('@nats-io/transport-node')}`,
        `typescript@${locked('typescript')}`,
        `@types/node@${locked('@types/node')}`,
      ],
      app,
    );
    writeFileSync(join(app, 'esm.mts'), source('esm'));
    writeFileSync(join(app, 'cjs.cts'), source('cjs'));
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    writeFileSync(join(app, 'tsconfig.dom.json'), tsconfig(['ES2022', 'DOM', 'DOM.Iterable'], false));
    run(process.execPath, [tsc, '-p', 'tsconfig.dom.json'], app);
    writeFileSync(join(app, 'tsconfig.json'), tsconfig(['ES2022'], true));
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);

    // plain JavaScript CommonJS, as the README shows it: require() of each subpath, destructured
    writeFileSync(
      join(app, 'plain.cjs'),
      `const { createBus } = require('${pkg.name}');\n` +
        `for (const s of ${JSON.stringify(subpaths)}) if (Object.keys(require(s)).length === 0) throw new Error(s + ' exports nothing');\n` +
        `if (typeof createBus().topic !== 'function') throw new Error('createBus');\n` +
        `console.log('plain ok ${subpaths.join(' ')}');\n`,
    );
    for (const [format, file] of [
      ['esm', 'out/esm.mjs'],
      ['cjs', 'out/cjs.cjs'],
      ['plain', 'plain.cjs'],
    ] as const) {
      const out = run(process.execPath, [file], app);
      if (!out.includes(`${format} ok ${subpaths.join(' ')}`)) {
        throw new Error(`consumer-check: the ${format} program printed ${JSON.stringify(out)}`);
      }
    }
    console.log(
      `consumer-check: ${packed.filename} (${packed.files.length} files) installs; ${subpaths.join(', ')} ` +
        'type-check (strict, skipLibCheck false; lib ES2022 and DOM) and run as ESM, as compiled CommonJS and from a plain require()',
    );
  } finally {
    if (keep) console.log(`consumer-check: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main();
