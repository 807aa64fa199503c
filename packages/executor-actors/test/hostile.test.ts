import 'reflect-metadata';
import { expect } from 'chai';
import { JobRegistry, MemoryJobStore, Retry } from '@oddjob/core';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, waitFor } from './helpers.js';

/** Things a job can throw or reject with that cannot be turned into text the ordinary way. */
function hostile(kind: number): unknown {
  switch (kind) {
    case 0: {
      const o = Object.create(null) as Record<string, unknown>;
      o.self = o;
      return o;
    }
    case 1: {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    }
    case 2: {
      const e = new Error('x');
      Object.defineProperty(e, 'message', {
        get: () => {
          throw new Error('unreadable');
        },
      });
      Object.defineProperty(e, 'name', {
        get: () => {
          throw new Error('unreadable');
        },
      });
      return e;
    }
    case 3: {
      const o = Object.create(null) as Record<string, unknown>;
      o.big = 1n;
      return o;
    }
    default:
      return Symbol('hostile');
  }
}

describe('JobExecutorShell: hostile jobs', () => {
  it('records every job of a batch whatever its neighbours throw, keeps claiming, and shuts down without waiting out its timeout', async () => {
    const registry = new JobRegistry();
    class Hostile {
      run(kind: number, async: boolean): void | Promise<void> {
        if (kind < 0) return async ? Promise.resolve() : undefined;
        const value = hostile(kind);
        // Non-Errors on purpose: the shell must record whatever a job rejects with.
        if (async) return Promise.reject(value);
        throw value;
      }
    }
    registry.register('hostile', Hostile);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    // 200 jobs: five hostile kinds, thrown and rejected, interleaved with ordinary jobs, so that
    // every result batch holds both.
    const calls = Array.from({ length: 200 }, (_, n) => ({
      target: Hostile,
      call: (j: Hostile) => j.run(n % 3 === 0 ? -1 : n % 5, n % 2 === 0),
      options: { retry: Retry.none() },
    }));
    const ids = await adder.addJobs(calls);
    const logger = new CapturingLogger();
    const shell = new JobExecutorShell({ manager: store, registry, logger });
    try {
      shell.startJobQueue('default', { workers: 4, pulseMs: 20 });
      const finals = async () => (await store.listJobs({ status: ['done', 'failed'], limit: 1000 })).length;
      await waitFor(async () => (await finals()) === 200, 'every job final');
      for (const id of ids) {
        const j = (await store.getJob(id))!;
        expect(['done', 'failed'], id).to.include(j.status);
        if (j.status === 'failed') expect(j.lastError?.message).to.be.a('string');
      }
      // The queue still claims: later jobs run too.
      await adder.addJobs(
        Array.from({ length: 20 }, () => ({ target: Hostile, call: (j: Hostile) => j.run(-1, false) })),
      );
      await waitFor(async () => (await finals()) === 220, 'later jobs ran');
    } finally {
      await shell.shutdown({ timeoutMs: 30_000 });
    }
    expect(logger.entries.some((e) => /stop timeout reached|did not drain/.test(e.msg ?? ''))).to.equal(false);
    expect(shell.state).to.equal('stopped');
  });
});
