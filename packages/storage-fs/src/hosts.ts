import { createHash } from 'node:crypto';
import { link, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageOperationError } from '@oddjob/core';
import { DirSyncer, errnoCode, isMissing, unlinkQuietly, writeTemp } from './durable.js';
import { describeCondition, PROVIDER, toStoreError } from './errors.js';
import type { Layout } from './layout.js';
import type { ProblemLog } from './problems.js';

/**
 * The tag a host name goes by in job names: 10 characters of its SHA-256 (60 bits; hosts of one
 * store are few, and a collision is detected when the second host is first written, not ignored).
 * A host name may be 255 characters; a job name has no room for it beside the owner.
 */
export function hostTagOf(host: string): string {
  return createHash('sha256').update(host, 'utf8').digest('base64url').slice(0, 10);
}

/**
 * hosts/<tag> files: each holds one host name, written once (durably, before the first claim whose
 * name carries its tag) and never changed, so this process caches them for good. A claim pays for
 * this only the first time this process meets a host.
 */
export class HostNames {
  private readonly known = new Map<string, string>();
  private readonly writing = new Map<string, Promise<string>>();

  constructor(
    private readonly layout: Layout,
    private readonly syncer: DirSyncer,
    private readonly problems: ProblemLog,
  ) {}

  /** The tag of `host`, its file written if it was not yet. */
  async tagFor(host: string): Promise<string> {
    const tag = hostTagOf(host);
    if (this.known.get(tag) === host) return tag;
    let w = this.writing.get(host);
    if (!w) {
      w = this.write(host, tag).finally(() => this.writing.delete(host));
      this.writing.set(host, w);
    }
    return w;
  }

  private async write(host: string, tag: string): Promise<string> {
    const path = join(this.layout.hosts, tag);
    const tmp = await writeTemp(this.layout.tmp, host);
    try {
      // A link, not a rename: two processes writing the same tag must not both think they made it.
      await link(tmp, path);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      const there = await readFile(path, 'utf8');
      if (there !== host) {
        throw new StorageOperationError(
          PROVIDER,
          'claim',
          `file store ${this.layout.root}: hosts "${host}" and "${there}" share the tag ${tag} (${path}); give this executor another host name`,
        );
      }
    } finally {
      await unlinkQuietly(tmp);
    }
    await this.syncer.sync(this.layout.hosts);
    this.known.set(tag, host);
    return tag;
  }

  /** The host a tag stands for; null for '' (no host) and, reported, for a tag whose file cannot be read. */
  async nameOf(tag: string): Promise<string | null> {
    if (tag === '') return null;
    const cached = this.known.get(tag);
    if (cached !== undefined) return cached;
    const path = join(this.layout.hosts, tag);
    try {
      const host = await readFile(path, 'utf8');
      if (host.length === 0 || host.length > 255 || hostTagOf(host) !== tag)
        throw new Error('its content is not the host name its tag is made from');
      this.known.set(tag, host);
      return host;
    } catch (err) {
      const why = isMissing(err)
        ? 'it is missing'
        : err instanceof Error && !('code' in err)
          ? err.message
          : describeCondition(err);
      this.problems.report(
        'unreadable',
        path,
        `host file ${path} cannot be read (${why}); runs and jobs naming that host show host null`,
        isMissing(err) || !('code' in (err as object)) ? null : toStoreError(this.layout.root, 'read', err),
      );
      return null;
    }
  }
}
