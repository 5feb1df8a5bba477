// @flagstaff/lambda: filled in by the modules below.

export {
  type FlushPolicy,
  getClient,
  getDataAge,
  type Handler,
  type WithFlagsOptions,
  withFlags,
} from './handler.js';
export {
  type BuildLayerOptions,
  buildLayer,
  DEFAULT_LAYER_OUT,
  type LayerBuildResult,
  type LayerEntry,
  type LayerStore,
} from './layer/build.js';
export {
  createSyncHandler,
  type SyncEvent,
  type SyncHandler,
  type SyncHandlerOptions,
  type SyncResponse,
  type SyncResult,
} from './sync/index.js';
