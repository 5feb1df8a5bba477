import { randomBytes, randomUUID } from 'node:crypto';

// Key formats follow LaunchDarkly's (sdk-<uuid>, mob-<uuid>, 24 hex digits for client-side IDs), so
// tools that recognise them by shape keep working.
export const newSdkKey = () => `sdk-${randomUUID()}`;
export const newMobileKey = () => `mob-${randomUUID()}`;
export const newClientSideId = () => randomBytes(12).toString('hex');
