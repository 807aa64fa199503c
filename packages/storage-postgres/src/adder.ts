import { JobQueueAdder, type Clock, type IJobWriter, type JobRegistry } from '@oddjob/core';
import type { PoolClient } from 'pg';

/**
 * The adder for PostgreSQL. Core's JobQueueAdder does validation and serialization; this fixes the
 * transaction type: pass a client on which you ran BEGIN as `tx`, and the job is written by that
 * client, so it exists only if your transaction commits (its NOTIFY, too, is sent only at commit).
 *
 *     const client = await pool.connect();
 *     await client.query('BEGIN');
 *     await client.query('INSERT INTO orders ...');
 *     await adder.addJob(EmailJob, (j) => j.send(to, 'thanks'), { tx: client });
 *     await client.query('COMMIT');
 */
export class PostgresJobQueueAdder extends JobQueueAdder<PoolClient> {
  constructor(writer: IJobWriter<PoolClient> & { readonly clock?: Clock }, options: { registry?: JobRegistry } = {}) {
    super(writer, { ...options, clock: writer.clock });
  }
}
