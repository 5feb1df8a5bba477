import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { StreamStatus } from './api/changeStream.js';
import type { ApiClient } from './api/client.js';
import type { CallerIdentity, ChangeNotice, Environment, FlagSummary, Project } from './api/types.js';
import type { Permissions } from './lib/permissions.js';

/** What every page shares: the API, the project and its environments, flags, and the change feed. */
export interface AppState {
  client: ApiClient;
  /** The signed-in token (name and role); undefined if the service could not say. */
  identity?: CallerIdentity;
  /** What the token may change (from its role); pages hide or disable the rest. */
  can: Permissions;
  projects: Project[];
  project: Project;
  environments: Environment[];
  /** The environment the pages show and the palette's keys come from. */
  env: Environment;
  setEnv(key: string): void;
  flags: FlagSummary[];
  flagsLoaded: boolean;
  reloadFlags(): Promise<void>;
  reloadEnvironments(): Promise<void>;
  streamStatus: StreamStatus;
  /** Listens to the project's change notices; `resync` means "re-read everything". */
  onChange(listener: (notice: ChangeNotice | 'resync') => void): () => void;
  /** Asks to turn a flag on or off, with confirmation where the environment is critical. */
  requestToggle(flag: FlagSummary, env: Environment): void;
  toast(message: string, kind?: 'info' | 'error'): void;
  signOut(): void;
  openPalette(): void;
}

/**
 * The id of the shell's read-only notice, which disabled controls point at with `aria-describedby`
 * so a screen reader says why they cannot be used.
 */
export const READ_ONLY_NOTICE_ID = 'read-only-notice';

export const AppContext = createContext<AppState | undefined>(undefined);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error('useApp() outside the signed-in app');
  return state;
}

/** Links into the current project. */
export const projectPath = (project: string, rest = '') => `/projects/${encodeURIComponent(project)}${rest}`;
