import type { DataKind } from '../api/store.js';

export const FEATURES: DataKind = Object.freeze({ namespace: 'features' });
export const SEGMENTS: DataKind = Object.freeze({ namespace: 'segments' });
