import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
// Every published package: all of packages/ (checked below, so a new one cannot be left out); the
// program in MAIN uses each one's public API.
const PACKAGES = [
  'core',
  'executor-actors',
  'storage-fs',
  'storage-postgres',
  'storage-sqlserver',
  'programs',
  'dashboard',
  'metrics',
  'cli',
];

// What a user's project looks like: strict, skipLibCheck off, NodeNext, decorators on.
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: false,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    types: ['node'],
    outDir: 'dist',
  },
  include: ['main.ts'],
};

// Uses each package's public API, on the file store: a decorated job and an allow-listed program
// run to done under the executor, with the metrics collector on its events; the dashboard serves one
// HTTP request; the CLI's library API parses a store spec. Prints one JSON line for the test to check.
const MAIN = `import { defaultRegistry, isFinalStatus, job, Retry, type JobContext } from '@oddjob/core';
import { TestClock, type ContractHarness, type HarnessFactory } from '@oddjob/core/testing';
import { JobExecutorShell } from '@oddjob/executor-actors';
import { FileJobStore } from '@oddjob/storage-fs';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { SqlServerJobStore } from '@oddjob/storage-sqlserver';
import { programJob, registerPrograms } from '@oddjob/programs';
import { MARKER } from '@oddjob/programs/reporter';
import type { openTestStore } from '@oddjob/storage-postgres/testing';
import type { sqlServerHarness } from '@oddjob/storage-sqlserver/testing';
import { startDashboard } from '@oddjob/dashboard';
import { collectMetrics } from '@oddjob/metrics';
import { parseStoreSpec, type CliStore } from '@oddjob/cli';

@job('packed')
class Packed {
  async run(word: string, ctx?: JobContext): Promise<void> {
    await ctx?.reportProgress(100);
    if (word !== 'hi') throw new Error('wrong argument');
  }
}

// An allow-listed program: this very Node, with a fixed script that reports progress through the
// package's reporter (resolved from this project, its cwd).
const script = "import('@oddjob/programs/reporter').then((r) => r.progress(50, 'half way'))";
registerPrograms(defaultRegistry, { hello: { executable: process.execPath, args: ['-e', script], cwd: process.cwd() } });

const factory: HarnessFactory = async (): Promise<ContractHarness> => {
  throw new Error('types only');
};
const cliStore: CliStore | null = null;
const testing: [typeof openTestStore, typeof sqlServerHarness] | null = null;
const openers: unknown[] = [PostgresJobStore.open, SqlServerJobStore.open, factory, new TestClock(0), cliStore, testing];

const store = await FileJobStore.open({ dir: './store', create: true });
const adder = store.adder();
const id = await adder.addJob(Packed, (p) => p.run('hi'), { queue: 'q', retry: Retry.fixed(1, 10) });
const programId = await adder.addJob(programJob('hello'), { queue: 'q' });
const shell = new JobExecutorShell({ manager: store });
const metrics = collectMetrics({ shell, admin: store, cacheMs: 0 });
shell.startJobQueue('q', { workers: 2 });
const final = async (jobId: string) => {
  let found = await store.getJob(jobId);
  for (let i = 0; i < 400 && (!found || !isFinalStatus(found.status)); i++) {
    await new Promise((r) => setTimeout(r, 25));
    found = await store.getJob(jobId);
  }
  return found;
};
const status = (await final(id))?.status;
const programRun = await final(programId);
await shell.shutdown();
const metricsText = await metrics.metrics();

const dashboard = await startDashboard({ admin: store, adder, port: 0, logger: false, throughput: false });
let counted = -1;
try {
  const response = await fetch(new URL('api/counts', dashboard.url));
  const body = (await response.json()) as { counts: { count: number }[] };
  counted = response.status === 200 ? body.counts.reduce((n, c) => n + c.count, 0) : -response.status;
} finally {
  await dashboard.close();
}
await store.close();
console.log(JSON.stringify({
  ids: [id, programId],
  status,
  programStatus: programRun?.status,
  programProgress: programRun?.progress,
  marker: MARKER.length > 0,
  counted,
  succeeded: [...metricsText.matchAll(/^oddjob_jobs_succeeded_total\\{[^}]*\\} (\\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0),
  storeKind: parseStoreSpec('./store', undefined).kind,
  openers: openers.length,
}));
`;

// Every subpath export under the older resolution mode (typesVersions).
const NODE10 = `import type { TestClock } from '@oddjob/core/testing';
import type { progress } from '@oddjob/programs/reporter';
import type { openTestStore } from '@oddjob/storage-postgres/testing';
import type { sqlServerHarness } from '@oddjob/storage-sqlserver/testing';
export type Clock = TestClock;
export type Subpaths = [typeof progress, typeof openTestStore, typeof sqlServerHarness];
`;

describe('packaging: the packed tarballs in a fresh project', function () {
  this.timeout(300_000);

  it('install (no workspace links), type-check with skipLibCheck off, and use every package on the file store', async function () {
    expect((await readdir(join(root, 'packages'))).sort()).to.deep.equal([...PACKAGES].sort());
    const dir = await mkdtemp(join(tmpdir(), 'oddjob-pack-'));
    try {
      const packs = join(dir, 'packs');
      await mkdir(packs);
      const ws = PACKAGES.flatMap((p) => ['-w', `packages/${p}`]);
      await run('npm', ['pack', ...ws, '--pack-destination', packs, '--silent'], { cwd: root, maxBuffer: 1 << 24 });
      const tarballs = (await readdir(packs)).filter((f) => f.endsWith('.tgz'));
      expect(tarballs.length, tarballs.join(', ')).to.equal(PACKAGES.length);

      const app = join(dir, 'app');
      await mkdir(app);
      const dependencies: Record<string, string> = { '@types/node': '^20.19.0' };
      for (const t of tarballs) {
        const name = '@oddjob/' + PACKAGES.find((p) => t.startsWith(`oddjob-${p}-`))!;
        dependencies[name] = `file:../packs/${t}`;
      }
      // The packages' own dependencies at the versions the repo's lock file tested (a fresh resolve
      // could pick a release the registry mirror lacks a dependency of, or one never tested here).
      const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
      };
      // A package's own copy (packages/X/node_modules/dep, where its range differs from the hoisted
      // one: programs' execa 9 beside a hoisted execa 5) comes first, as npm resolves it.
      const overrides: Record<string, string> = {};
      for (const p of PACKAGES) {
        for (const dep of Object.keys(lock.packages[`packages/${p}`]?.dependencies ?? {})) {
          const locked =
            lock.packages[`packages/${p}/node_modules/${dep}`]?.version ??
            lock.packages[`node_modules/${dep}`]?.version;
          if (dep.startsWith('@oddjob/') || locked === undefined) continue;
          if (overrides[dep] !== undefined && overrides[dep] !== locked) {
            throw new Error(
              `${dep}: the packages were tested with ${overrides[dep]} and ${locked}; one override cannot pin both`,
            );
          }
          overrides[dep] = locked;
        }
      }
      // @oddjob/core/testing asserts with chai, an optional peer a project that runs the contract has.
      dependencies['chai'] = lock.packages['node_modules/chai'].version!;
      const manifest = { name: 'app', private: true, type: 'module', dependencies, overrides };
      await writeFile(join(app, 'package.json'), JSON.stringify(manifest));
      await writeFile(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
      await writeFile(join(app, 'main.ts'), MAIN);
      await writeFile(
        join(app, 'tsconfig.node10.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'commonjs',
            moduleResolution: 'node10',
            strict: true,
            skipLibCheck: true,
            noEmit: true,
            types: [],
          },
          files: ['node10.ts'],
        }),
      );
      await writeFile(join(app, 'node10.ts'), NODE10);
      // Every published declaration file, reachable from an import or not (a consumer's tool may load any).
      await writeFile(
        join(app, 'tsconfig.dts.json'),
        JSON.stringify({
          compilerOptions: { ...TSCONFIG.compilerOptions, noEmit: true },
          include: ['node_modules/@oddjob/*/dist/src/**/*.d.ts'],
          exclude: [],
        }),
      );
      // The third-party dependencies come from the npm cache when they are there, else the registry.
      await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
        cwd: app,
        maxBuffer: 1 << 24,
      });

      for (const p of PACKAGES) {
        const installed = join(app, 'node_modules/@oddjob', p);
        const files = await readdir(installed);
        expect(files, p).to.include.members(['LICENSE', 'README.md', 'dist', 'src', 'package.json']);
        const meta = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
        // prepack builds, so a clean clone's pack ships dist/ (here dist/ exists already; the script is the guard).
        expect((meta['scripts'] as Record<string, string>)['prepack'], p).to.match(/tsc -b/);
        for (const key of ['description', 'repository', 'homepage', 'bugs', 'keywords', 'engines']) {
          expect(meta[key], `${p} ${key}`).to.not.equal(undefined);
        }
        for (const [sub, target] of Object.entries(meta['exports'] as Record<string, { types?: string }>)) {
          expect(target.types, `${p} exports["${sub}"].types`).to.be.a('string');
        }
      }

      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      for (const project of ['tsconfig.json', 'tsconfig.node10.json', 'tsconfig.dts.json']) {
        try {
          await run(process.execPath, [tsc, '-p', project], { cwd: app, maxBuffer: 1 << 24 });
        } catch (err) {
          const e = err as { stdout?: string; stderr?: string };
          throw new Error(`tsc -p ${project} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
        }
      }
      const { stdout } = await run(process.execPath, ['dist/main.js'], { cwd: app, timeout: 60_000 });
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as { ids: string[] } & Record<string, unknown>;
      expect(result).to.deep.include({
        status: 'done',
        programStatus: 'done',
        counted: 2,
        succeeded: 2,
        storeKind: 'fs',
        marker: true,
        openers: 6,
      });
      // The program's reporter line reached the job: the protocol works between the installed packages.
      expect(result['programProgress']).to.deep.equal({ percent: 50, message: 'half way' });

      // The installed bin, run by this same Node (its shebang finds `node` on PATH).
      const oddjob = join(app, 'node_modules/.bin/oddjob');
      const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
      const help = await run(oddjob, ['--help'], { cwd: app, env, timeout: 30_000 });
      expect(help.stdout)
        .to.match(/Usage: oddjob/)
        .and.to.contain('jobs');
      const listed = await run(oddjob, ['jobs', 'list', '--store', './store', '--json'], {
        cwd: app,
        env,
        timeout: 30_000,
      });
      const jobs = JSON.parse(listed.stdout) as { id: string; status: string; target: string }[];
      expect(jobs.map((j) => [j.id, j.status, j.target])).to.deep.equal([
        [result.ids[0], 'done', 'packed'],
        [result.ids[1], 'done', 'oddjob.program'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
