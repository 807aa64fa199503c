import { createHash } from 'node:crypto';
import { link, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes a store the way @oddjob/storage-fs wrote layout 1 (before run history): the marker says
 * version 1, job files are content format 1 (no progressMessage, result) under layout 1 names
 * (ready <runAt>~<id>~<n|r>~<attempts>~<updatedAt>, running <id>~<token>~<expiresAt>~<attempts>~
 * <runAt>~<updatedAt>~<owner>, final <finishedAt>~<id>~<attempts>~<runAt>). Byte for byte what the
 * layout 1 writer made, so that the upgrade is tested on real layout 1 data without keeping the old
 * code around.
 */
export interface Layout1Job {
  id: string;
  queue: string;
  state: 'ready' | 'running' | 'done' | 'failed' | 'cancelled';
  /** The layout 1 name (see above). */
  name: string;
  lastError?: { name: string; message: string } | null;
  progress?: number | Record<string, unknown> | null;
  uniqueKey?: string | null;
  createdAt: number;
}

export async function writeLayout1Store(dir: string, jobs: readonly Layout1Job[]): Promise<void> {
  for (const d of ['tmp', 'queues', 'unique', 'schedules', 'corrupt']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'oddjob-store.json'), JSON.stringify({ format: 'oddjob-fs', version: 1 }) + '\n');
  for (const j of jobs) {
    const qdir = join(dir, 'queues', j.queue);
    for (const s of ['ready', 'running', 'done', 'failed', 'cancelled'])
      await mkdir(join(qdir, s), { recursive: true });
    const content = {
      format: 1,
      id: j.id,
      queue: j.queue,
      target: 'mailer',
      method: 'send',
      args: JSON.stringify({ json: [j.id] }),
      retry: { maxAttempts: 3, backoff: { kind: 'fixed', delayMs: 1000 } },
      metadata: { origin: 'layout-1' },
      uniqueKey: j.uniqueKey ?? null,
      createdAt: j.createdAt,
      insertedRunAt: j.createdAt,
      lastError: j.lastError ?? null,
      progress: j.progress ?? null,
    };
    const path = join(qdir, j.state, j.name);
    await writeFile(path, JSON.stringify(content) + '\n');
    if (j.uniqueKey)
      await link(path, join(dir, 'unique', createHash('sha256').update(j.uniqueKey, 'utf8').digest('hex')));
  }
}
