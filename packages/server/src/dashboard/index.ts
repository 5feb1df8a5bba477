export { type AdminStreamOptions, adminStream } from './adminStream.js';
export { locateDashboard } from './locate.js';
export { type DashboardOptions, isPageRequest, serveDashboard } from './staticSite.js';
