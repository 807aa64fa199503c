export { enqueueCommand, executorsCommand, migrateCommand } from './misc.js';
export { schedulesCommand } from './schedules.js';
export { dashboardCommand } from './dashboard.js';
export { workerCommand } from './serve.js';
export { sequencesCommand } from './sequences.js';
