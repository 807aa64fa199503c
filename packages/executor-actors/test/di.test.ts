import 'reflect-metadata';
import { expect } from 'chai';
import { Container, inject, injectable } from 'inversify';
import { JobRegistry, MemoryJobStore } from '@oddjob/core';
import { InversifyContainerFactory, JobExecutorShell } from '../src/index.js';
import { CapturingLogger, waitFor } from './helpers.js';

let perRunMade = 0;
let sharedMade = 0;

@injectable()
class PerRunThing {
  readonly n = ++perRunMade;
}

@injectable()
class SharedThing {
  readonly n = ++sharedMade;
}

const RUN_TOKEN = Symbol('RunToken');

describe('InversifyContainerFactory', () => {
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  it('resolves from the root by default: request/transient dependencies are fresh per run, singletons shared, targets auto-bound', async () => {
    const seen: { perRun: number; shared: number }[] = [];
    @injectable()
    class DiJob {
      constructor(
        @inject(PerRunThing) private readonly perRun: PerRunThing,
        @inject(SharedThing) private readonly shared: SharedThing,
      ) {}
      run() {
        seen.push({ perRun: this.perRun.n, shared: this.shared.n });
      }
    }
    const registry = new JobRegistry().register('di', DiJob);
    const container = new Container();
    container.bind(PerRunThing).toSelf().inRequestScope();
    container.bind(SharedThing).toSelf().inSingletonScope();
    // DiJob is not bound: the factory binds registered targets itself.
    const containers = new InversifyContainerFactory(container, { registry });
    expect(container.isBound(DiJob)).to.equal(true);
    const store = new MemoryJobStore();
    await store
      .adder({ registry })
      .addJobs([1, 2, 3, 4, 5].map(() => ({ target: DiJob, call: (j: DiJob) => j.run() })));
    shell = new JobExecutorShell({ manager: store, registry, containers, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
    await waitFor(() => seen.length === 5, 'five runs');
    expect(new Set(seen.map((s) => s.perRun)).size).to.equal(5);
    expect(new Set(seen.map((s) => s.shared)).size).to.equal(1);
  });

  it('makes a child container per run only when perRunBindings is given, and disposes it', async () => {
    const seen: string[] = [];
    const deactivated: string[] = [];
    @injectable()
    class RunBound {
      constructor(@inject(RUN_TOKEN) private readonly token: string) {}
      run() {
        seen.push(this.token);
      }
    }
    const registry = new JobRegistry().register('bound', RunBound);
    const container = new Container();
    let serial = 0;
    const containers = new InversifyContainerFactory(container, {
      registry,
      perRunBindings: (child) => {
        const token = `run-${++serial}`;
        child
          .bind<string>(RUN_TOKEN)
          .toConstantValue(token)
          .onDeactivation((t: string) => void deactivated.push(t));
      },
    });
    const store = new MemoryJobStore();
    await store
      .adder({ registry })
      .addJobs([1, 2, 3].map(() => ({ target: RunBound, call: (j: RunBound) => j.run() })));
    shell = new JobExecutorShell({ manager: store, registry, containers, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await waitFor(() => seen.length === 3 && deactivated.length === 3, 'three runs, three disposals');
    expect(seen).to.deep.equal(['run-1', 'run-2', 'run-3']);
    expect(deactivated).to.deep.equal(['run-1', 'run-2', 'run-3']);
  });
});
