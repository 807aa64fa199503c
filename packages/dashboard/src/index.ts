export { dashboardPlugin } from './plugin.js';
export { buildDashboard, startDashboard, type RunningDashboard, type StartDashboardOptions } from './server.js';
export type { DashboardOptions, TenantOptions } from './options.js';
export type { AuthOptions, DashboardUser } from './auth.js';
export { DashboardHttpError, InsecureListenError } from './errors.js';
export { ThroughputSampler } from './throughput.js';
export {
  WebhookNotifier,
  NotificationWatcher,
  type Notification,
  type WebhookOptions,
  type WatcherOptions,
} from './notify.js';
