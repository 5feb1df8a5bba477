import { Link, match, navigate, useLocation } from '../router.js';
import { projectPath, READ_ONLY_NOTICE_ID, useApp } from '../state.js';
import { AuditPage } from './AuditPage.js';
import { EnvironmentsPage } from './EnvironmentsPage.js';
import { FlagDefinitionPage } from './FlagDefinitionPage.js';
import { FlagDetailPage } from './FlagDetailPage.js';
import { FlagListPage } from './FlagListPage.js';
import { InsightsPage } from './InsightsPage.js';
import { SegmentDetailPage } from './SegmentDetailPage.js';
import { SegmentListPage } from './SegmentListPage.js';
import { TokensPage } from './TokensPage.js';

const NAV: [string, string][] = [
  ['Flags', '/flags'],
  ['Segments', '/segments'],
  ['Environments', '/environments'],
  ['Audit log', '/audit'],
  ['Insights', '/insights'],
];
/** Only admin tokens may manage tokens, so only they see the page in the navigation. */
const ADMIN_NAV: [string, string][] = [['API tokens', '/tokens']];

/** Header (project, environment, live status, palette), navigation, and the page for the URL. */
export function Shell() {
  const app = useApp();
  const { path } = useLocation();
  const base = projectPath(app.project.key);
  const page = route(path.slice(base.length) || '/flags');

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href={`${base}/flags`} class="brand">
          <span class="logo" aria-hidden="true">
            ⚑
          </span>{' '}
          Flagstaff
        </Link>
        {app.projects.length > 1 ? (
          <label class="inline-field">
            <span class="sr-only">Project</span>
            <select
              value={app.project.key}
              onChange={(e) => navigate(projectPath(e.currentTarget.value, '/flags'))}
            >
              {app.projects.map((p) => (
                <option key={p.key} value={p.key}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span class="project-name">{app.project.name}</span>
        )}
        <label class="inline-field env-select">
          <span class="sr-only">Environment</span>
          <span
            class="env-dot"
            aria-hidden="true"
            style={app.env.color ? { background: `#${app.env.color}` } : undefined}
          />
          <select
            value={app.env.key}
            onChange={(e) => app.setEnv(e.currentTarget.value)}
            aria-label="Environment"
          >
            {app.environments.map((e) => (
              <option key={e.key} value={e.key}>
                {e.name}
                {e.critical ? ' (critical)' : ''}
              </option>
            ))}
          </select>
        </label>
        <span
          class={`live live-${app.streamStatus}`}
          data-status={app.streamStatus}
          title="Live updates from the service"
        >
          <span aria-hidden="true">●</span>{' '}
          {app.streamStatus === 'live'
            ? 'Live'
            : app.streamStatus === 'connecting'
              ? 'Connecting'
              : 'Offline'}
        </span>
        <span class="topbar-spacer" />
        <button
          type="button"
          class="button small"
          onClick={app.openPalette}
          aria-keyshortcuts="Control+K Meta+K"
        >
          <span aria-hidden="true">⌘K</span>
          <span class="sr-only">Open the command palette (Control+K)</span>
          <span class="palette-hint"> Commands</span>
        </button>
        <button type="button" class="button small" onClick={app.signOut}>
          Sign out
        </button>
      </header>
      <nav class="nav" aria-label="Sections">
        {[...NAV, ...(app.identity?.role === 'admin' ? ADMIN_NAV : [])].map(([label, rest]) => {
          const href = `${base}${rest}`;
          const current = path === href || path.startsWith(`${href}/`);
          return (
            <Link key={rest} href={href} aria-current={current ? 'page' : undefined}>
              {label}
            </Link>
          );
        })}
      </nav>
      <main id="main" class="main" tabIndex={-1}>
        {app.can.readOnlyReason ? (
          // On every page, above it: the reason the page's controls are disabled or missing. Disabled
          // controls point here with aria-describedby.
          <p id={READ_ONLY_NOTICE_ID} class="notice read-only-notice">
            <strong>{app.can.readOnlyReason}.</strong> You can look at everything; changing flags, segments or
            keys needs a writer or admin token.
          </p>
        ) : null}
        {page}
      </main>
    </div>
  );
}

function route(rest: string) {
  if (rest === '/flags' || rest === '/') return <FlagListPage />;
  const flag = match('/flags/:key', rest);
  if (flag) return <FlagDetailPage key={flag.key} flagKey={flag.key!} />;
  const definition = match('/flags/:key/definition', rest);
  if (definition) return <FlagDefinitionPage key={definition.key} flagKey={definition.key!} />;
  if (rest === '/segments') return <SegmentListPage />;
  const segment = match('/segments/:key', rest);
  if (segment) return <SegmentDetailPage key={segment.key} segmentKey={segment.key!} />;
  if (rest === '/environments') return <EnvironmentsPage />;
  if (rest === '/audit') return <AuditPage />;
  if (rest === '/insights') return <InsightsPage />;
  if (rest === '/tokens') return <TokensPage />;
  return (
    <section class="stack">
      <h1>Not found</h1>
      <p>There is no page here.</p>
    </section>
  );
}
