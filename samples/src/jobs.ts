import { JobAbortError, JobRegistry, job, jobContext } from '@oddjob/core';
import { inject, injectable } from 'inversify';

/** The sample's own registry, so its targets never mix with anybody else's. */
export const sampleRegistry = new JobRegistry();

/** A service the email job gets by injection; a real one would talk SMTP. */
@injectable()
export class Mailer {
  readonly outbox: { to: string; subject: string }[] = [];

  async deliver(to: string, subject: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 20)); // the network
    this.outbox.push({ to, subject });
  }
}

@job('sample.email', sampleRegistry)
@injectable()
export class EmailJob {
  // Not `import type`: the class is the injection token, and decorator metadata needs the value.
  constructor(@inject(Mailer) private readonly mailer: Mailer) {}

  async send(to: string, subject: string): Promise<void> {
    if (!to.includes('@')) throw new JobAbortError(`"${to}" is not an email address`); // retrying cannot help
    // The run's context (attempt, signal, logger, progress): reached from anywhere inside the run.
    const ctx = jobContext();
    await ctx.reportProgress(50);
    await this.mailer.deliver(to, subject);
    ctx.logger.debug({ to }, 'email sent');
  }
}

/** Fails on its first two attempts (a flaky dependency), then succeeds. */
@job('sample.flaky', sampleRegistry)
@injectable()
export class FlakyJob {
  async sync(account: string): Promise<string> {
    const { attempt, maxAttempts } = jobContext();
    if (attempt < 3) throw new Error(`upstream for ${account} timed out (attempt ${attempt} of ${maxAttempts})`);
    return account;
  }
}

/** Always fails: shows a job running out of attempts. */
@job('sample.broken', sampleRegistry)
@injectable()
export class BrokenJob {
  run(reason: string): void {
    throw new Error(reason);
  }
}

/** Fired by a recurring schedule (every second in the sample); each firing is its own job. */
@job('sample.heartbeat', sampleRegistry)
@injectable()
export class HeartbeatJob {
  beat(service: string): string {
    const fired = (jobContext().metadata['oddjob.schedule'] as { fireAt?: string } | undefined)?.fireAt;
    return `${service} alive (fire time ${fired ?? 'unknown'})`;
  }
}
