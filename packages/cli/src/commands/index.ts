export { enqueueCommand, executorsCommand, migrateCommand, schedulesCommand } from './misc.js';
export { dashboardCommand, workerCommand } from './serve.js';
