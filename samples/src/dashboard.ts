/**
 * The dashboard `npm start` serves beside the sample: 127.0.0.1 only (no auth needed there), port
 * ODDJOB_DASHBOARD_PORT (default 4710, a free one if that is taken); ODDJOB_DASHBOARD=0 turns it off.
 */
import { ScheduleManager, JobQueueAdder } from '@oddjob/core';
import { startDashboard, type RunningDashboard } from '@oddjob/dashboard';
import type { SampleStore } from './store.js';

export async function serveDashboard(
  store: SampleStore,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningDashboard | null> {
  if (env.ODDJOB_DASHBOARD === '0') return null;
  const port = env.ODDJOB_DASHBOARD_PORT === undefined ? 4710 : Number(env.ODDJOB_DASHBOARD_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`ODDJOB_DASHBOARD_PORT "${env.ODDJOB_DASHBOARD_PORT}" is not a port number`);
  const dash = await startDashboard({
    admin: store.admin,
    adder: new JobQueueAdder(store.writer),
    schedules: new ScheduleManager({ store: store.schedules, writer: store.writer }),
    host: '127.0.0.1',
    port,
    fallbackToFreePort: true,
    logger: { level: 'warn' },
  });
  console.log(`dashboard: ${dash.url} (${store.describe})`);
  return dash;
}
