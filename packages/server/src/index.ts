// @flagstaff/server: the flag service.
export { buildFlagService, type FlagService, type ServerOptions } from './app.js';
export type { CommittedChange, ServerContext } from './context.js';
export { type DashboardOptions, locateDashboard } from './dashboard/index.js';
export { createToken, findToken, hashToken } from './domain/tokens.js';
export * from './domain/types.js';
export { DEFAULT_DATA_DIR, type OpenStorageOptions, openStorage } from './storage/index.js';
export type { Storage } from './storage/types.js';
