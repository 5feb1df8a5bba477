import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { openChangeStream, type StreamStatus } from './api/changeStream.js';
import { ApiClient, ApiError } from './api/client.js';
import { clearToken, readToken, saveToken, takeTokenFromFragment } from './api/session.js';
import type { CallerIdentity, ChangeNotice, Environment, FlagSummary, Project } from './api/types.js';
import { ConflictDialog } from './components/ConflictDialog.js';
import { Palette } from './components/Palette.js';
import { ToggleDialog } from './components/ToggleDialog.js';
import { permissionsOf } from './lib/permissions.js';
import { Shell } from './pages/Shell.js';
import { SignIn } from './pages/SignIn.js';
import { navigate, useLocation } from './router.js';
import { AppContext, type AppState, projectPath } from './state.js';

interface Toast {
  id: number;
  message: string;
  kind: 'info' | 'error';
}

const envStorageKey = (project: string) => `flagstaff.env.${project}`;

/** The whole app: sign-in, then the signed-in shell around the page the URL names. */
export function App() {
  const [token, setToken] = useState<string | undefined>(() => {
    const handed = takeTokenFromFragment();
    if (handed) saveToken(handed, false);
    return handed ?? readToken();
  });
  const [signInMessage, setSignInMessage] = useState<string>();
  // A sign-in link opened in a tab that already runs the app changes only the fragment.
  useEffect(() => {
    const onHash = () => {
      const handed = takeTokenFromFragment();
      if (handed) {
        saveToken(handed, false);
        setToken(handed);
      }
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const signOut = useCallback((message?: string) => {
    clearToken();
    setToken(undefined);
    setSignInMessage(message);
  }, []);

  if (!token) {
    return (
      <SignIn
        message={signInMessage}
        onSignedIn={(secret, remember) => {
          saveToken(secret, remember);
          setSignInMessage(undefined);
          setToken(secret);
        }}
      />
    );
  }
  return <SignedIn key={token} token={token} signOut={signOut} />;
}

function SignedIn({ token, signOut }: { token: string; signOut(message?: string): void }) {
  const client = useMemo(
    () =>
      new ApiClient(token, () =>
        signOut('The service refused the token (revoked or unknown). Sign in again.'),
      ),
    [token, signOut],
  );
  const { path } = useLocation();
  const [projects, setProjects] = useState<Project[]>();
  // `undefined` while asking; `{}` when the service could not say (then the service alone decides).
  const [identity, setIdentity] = useState<{ known?: CallerIdentity }>();
  const [loadError, setLoadError] = useState<string>();

  useEffect(() => {
    client.projects().then(
      (page) => setProjects(page.items.filter((p) => !p.archived)),
      (err: unknown) => setLoadError((err as Error).message),
    );
    // Who the token is decides what is offered: admin pages, and whether anything can be changed.
    // The pages wait for the answer, so a reader never sees switches that work for a moment.
    client.callerIdentity().then(
      (known) => setIdentity({ known }),
      () => setIdentity({}),
    );
  }, [client]);

  const wanted = path.startsWith('/projects/') ? safeDecode(path.split('/')[2] ?? '') : undefined;
  const project = projects?.find((p) => p.key === wanted) ?? projects?.[0];

  useEffect(() => {
    // Pages live under /projects/<key>/…: send "/" and unknown projects to the project's flags.
    if (project && (!path.startsWith('/projects/') || wanted !== project.key)) {
      navigate(projectPath(project.key, '/flags'), { replace: true });
    }
  }, [project, path, wanted]);

  if (loadError) {
    return (
      <main class="center-page">
        <div class="card stack" role="alert">
          <h1>Could not load the projects</h1>
          <p>{loadError}</p>
          <button type="button" class="button" onClick={() => window.location.reload()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (!projects || !identity) return <Loading what="projects" />;
  if (!project) {
    return (
      <main class="center-page">
        <div class="card stack">
          <h1>No projects yet</h1>
          <p>
            Create one through the admin API (<code>POST /api/v1/projects</code>), or run{' '}
            <code>flagstaff dev</code>, which creates a demo project.
          </p>
          <button type="button" class="button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </main>
    );
  }
  return (
    <ProjectApp
      key={project.key}
      client={client}
      identity={identity.known}
      projects={projects}
      project={project}
      signOut={signOut}
    />
  );
}

function ProjectApp({
  client,
  identity,
  projects,
  project,
  signOut,
}: {
  client: ApiClient;
  identity: CallerIdentity | undefined;
  projects: Project[];
  project: Project;
  signOut(message?: string): void;
}) {
  const [environments, setEnvironments] = useState<Environment[]>();
  const [envKey, setEnvKey] = useState<string | undefined>(
    () => localStorage.getItem(envStorageKey(project.key)) ?? undefined,
  );
  const [flags, setFlags] = useState<FlagSummary[]>([]);
  const [flagsLoaded, setFlagsLoaded] = useState(false);
  const [streamStatus, setStreamStatus] = useState<StreamStatus>('connecting');
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [paletteOpen, setPaletteOpen] = useState(false);
  const [pendingToggle, setPendingToggle] = useState<{ flag: FlagSummary; env: Environment }>();
  const [conflict, setConflict] = useState<string>();
  const listeners = useRef(new Set<(n: ChangeNotice | 'resync') => void>());
  const toastId = useRef(0);

  const toast = useCallback((message: string, kind: 'info' | 'error' = 'info') => {
    const id = ++toastId.current;
    setToasts((list) => [...list.slice(-3), { id, message, kind }]);
    window.setTimeout(
      () => setToasts((list) => list.filter((t) => t.id !== id)),
      kind === 'error' ? 8000 : 4000,
    );
  }, []);

  const reloadEnvironments = useCallback(async () => {
    try {
      const { items } = await client.environments(project.key);
      setEnvironments(items.filter((e) => !e.archived));
    } catch (err) {
      toast(`Could not load environments: ${(err as Error).message}`, 'error');
      setEnvironments((current) => current ?? []);
    }
  }, [client, project.key, toast]);

  const reloadFlags = useCallback(async () => {
    try {
      setFlags(await client.flags(project.key));
      setFlagsLoaded(true);
    } catch (err) {
      toast(`Could not load flags: ${(err as Error).message}`, 'error');
    }
  }, [client, project.key, toast]);

  useEffect(() => {
    void reloadEnvironments();
    void reloadFlags();
  }, [reloadEnvironments, reloadFlags]);

  // Live updates: change notices from the service. The flag list and environments are re-read here
  // (debounced: a definition change sends one notice per environment); pages re-read their own data.
  useEffect(() => {
    let flagTimer: number | undefined;
    let envTimer: number | undefined;
    const soon = (timer: number | undefined, fn: () => void) => {
      window.clearTimeout(timer);
      return window.setTimeout(fn, 150);
    };
    const close = openChangeStream(client.token, project.key, {
      onChange(notice) {
        if (notice.kind === 'flag') flagTimer = soon(flagTimer, () => void reloadFlags());
        if (notice.kind === 'environment' || notice.kind === 'project')
          envTimer = soon(envTimer, () => void reloadEnvironments());
        for (const listener of listeners.current) listener(notice);
      },
      onResync() {
        void reloadFlags();
        void reloadEnvironments();
        for (const listener of listeners.current) listener('resync');
      },
      onStatus: setStreamStatus,
      onUnauthorized: () => signOut('The service refused the token (revoked or unknown). Sign in again.'),
    });
    return () => {
      close();
      window.clearTimeout(flagTimer);
      window.clearTimeout(envTimer);
    };
  }, [client, project.key, reloadFlags, reloadEnvironments, signOut]);

  // Ctrl+K (Cmd+K on a Mac) opens the palette from anywhere, inputs included.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        setPaletteOpen((open) => !open);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const env = environments?.find((e) => e.key === envKey) ?? environments?.[0];
  const can = useMemo(() => permissionsOf(identity), [identity]);

  const doToggle = useCallback(
    async (flag: FlagSummary, target: Environment, comment?: string) => {
      const state = flag.environments[target.key];
      if (!state) {
        toast(`${flag.key} has no targeting in ${target.name}`, 'error');
        return;
      }
      try {
        await client.toggle(project.key, target.key, flag.key, !state.on, state.version, comment);
        toast(`Turned ${state.on ? 'off' : 'on'} ${flag.name} in ${target.name}`);
        await reloadFlags();
      } catch (err) {
        if (err instanceof ApiError && err.isConflict) setConflict(`“${flag.name}” in ${target.name}`);
        else toast(`Could not switch ${flag.name}: ${(err as Error).message}`, 'error');
      }
    },
    [client, project.key, reloadFlags, toast],
  );

  const state: AppState | undefined = useMemo(
    () =>
      env && environments
        ? {
            client,
            identity,
            can,
            projects,
            project,
            environments,
            env,
            setEnv: (key: string) => {
              localStorage.setItem(envStorageKey(project.key), key);
              setEnvKey(key);
              const name = environments.find((e) => e.key === key)?.name ?? key;
              toast(`Environment: ${name}`);
            },
            flags,
            flagsLoaded,
            reloadFlags,
            reloadEnvironments,
            streamStatus,
            onChange: (listener) => {
              listeners.current.add(listener);
              return () => {
                listeners.current.delete(listener);
              };
            },
            requestToggle: (flag, target) => {
              // Switches are disabled for readers; this catches any other way in (a stale palette).
              if (!can.write) toast(`${can.readOnlyReason}: flags cannot be switched.`, 'error');
              else if (target.critical) setPendingToggle({ flag, env: target });
              else void doToggle(flag, target);
            },
            toast,
            signOut: () => signOut(),
            openPalette: () => setPaletteOpen(true),
          }
        : undefined,
    [
      client,
      identity,
      can,
      projects,
      project,
      environments,
      env,
      flags,
      flagsLoaded,
      reloadFlags,
      reloadEnvironments,
      streamStatus,
      toast,
      signOut,
      doToggle,
    ],
  );

  if (!environments) return <Loading what="environments" />;
  if (!state) {
    return (
      <main class="center-page">
        <div class="card">
          <h1>{project.name} has no environments</h1>
          <p>Create one through the admin API first.</p>
        </div>
      </main>
    );
  }
  return (
    <AppContext.Provider value={state}>
      <Shell />
      {paletteOpen ? <Palette app={state} onClose={() => setPaletteOpen(false)} /> : null}
      {pendingToggle ? (
        <ToggleDialog
          flag={pendingToggle.flag}
          env={pendingToggle.env}
          onClose={() => setPendingToggle(undefined)}
          onConfirm={async (comment) => {
            await doToggle(pendingToggle.flag, pendingToggle.env, comment);
            setPendingToggle(undefined);
          }}
        />
      ) : null}
      {conflict ? (
        <ConflictDialog
          what={conflict}
          onClose={() => setConflict(undefined)}
          onReload={() => {
            setConflict(undefined);
            void reloadFlags();
          }}
        />
      ) : null}
      <div class="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} class={`toast toast-${t.kind}`}>
            {t.message}
          </div>
        ))}
      </div>
    </AppContext.Provider>
  );
}

function Loading({ what }: { what: string }) {
  return (
    <main class="center-page" aria-busy="true">
      <p class="muted">Loading {what}…</p>
    </main>
  );
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
