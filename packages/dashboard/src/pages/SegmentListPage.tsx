import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import type { Segment } from '../api/types.js';
import { Dialog } from '../components/Dialog.js';
import { FieldProblems, ProblemSummary } from '../components/Problems.js';
import { KEY_PATTERN, KEY_RULE } from '../lib/format.js';
import { Link, navigate, useLocation } from '../router.js';
import { projectPath, useApp } from '../state.js';
import type { Problem } from '../targeting/draft.js';
import { ArchivedSegments } from './ArchivedSegments.js';

/** The segments of the current environment (segments belong to one environment), or its archived ones. */
export function SegmentListPage() {
  const { query } = useLocation();
  return query.get('archived') === '1' ? <ArchivedSegmentsPage /> : <LiveSegmentsPage />;
}

/** The page head of both lists: the title, the link between them, and "New segment" for writers. */
function SegmentsHead({ archived, onCreate }: { archived: boolean; onCreate?: () => void }) {
  const { project, env, can } = useApp();
  return (
    <div class="page-head">
      <h1>
        {archived ? 'Archived segments in ' : 'Segments in '}
        <span class="env-name">{env.name}</span>
      </h1>
      <div class="head-actions">
        {/* A link, so the archived list has its own URL and the back button returns from it. */}
        <Link class="button" href={projectPath(project.key, archived ? '/segments' : '/segments?archived=1')}>
          {archived ? 'Show live segments' : 'Show archived segments'}
        </Link>
        {onCreate && can.write ? (
          <button type="button" class="button primary" onClick={onCreate}>
            New segment
          </button>
        ) : null}
      </div>
    </div>
  );
}

function ArchivedSegmentsPage() {
  return (
    <section class="stack">
      <SegmentsHead archived />
      <ArchivedSegments />
    </section>
  );
}

function LiveSegmentsPage() {
  const app = useApp();
  const { client, project, env } = app;
  const [segments, setSegments] = useState<Segment[]>();
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);

  const load = useCallback(async () => {
    try {
      setSegments((await client.segments(project.key, env.key)).filter((s) => !s.archived));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [client, project.key, env.key]);
  useEffect(() => {
    void load();
  }, [load]);
  useEffect(
    () =>
      app.onChange((n) => {
        if (n === 'resync' || (n.kind === 'segment' && n.envKey === env.key)) void load();
      }),
    [app, env.key, load],
  );

  return (
    <section class="stack">
      <SegmentsHead archived={false} onCreate={() => setCreating(true)} />
      {error ? (
        <p class="notice" role="alert">
          {error}
        </p>
      ) : null}
      {!segments ? (
        <p class="muted">Loading segments…</p>
      ) : segments.length === 0 ? (
        <p class="muted">No live segments in {env.name}.</p>
      ) : (
        <table class="simple">
          <thead>
            <tr>
              <th scope="col">Segment</th>
              <th scope="col">Included</th>
              <th scope="col">Rules</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {segments.map((s) => (
              <tr key={s.key} data-segment={s.key}>
                <th scope="row">
                  <Link href={projectPath(project.key, `/segments/${encodeURIComponent(s.key)}`)}>
                    {s.name}
                  </Link>
                  <div class="flag-meta">
                    <code>{s.key}</code>
                  </div>
                </th>
                <td data-label="Included">
                  {s.included.length + s.includedContexts.reduce((n, t) => n + t.values.length, 0)}
                </td>
                <td data-label="Rules">{s.rules.length}</td>
                <td data-label="Version">{s.version}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating ? <CreateSegmentDialog onClose={() => setCreating(false)} /> : null}
    </section>
  );
}

function CreateSegmentDialog({ onClose }: { onClose(): void }) {
  const app = useApp();
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const found: Problem[] = [];
    if (!KEY_PATTERN.test(key))
      found.push({ path: '/key', message: key ? `the key ${KEY_RULE}` : 'give the segment a key' });
    if (!name.trim()) found.push({ path: '/name', message: 'give the segment a name' });
    setProblems(found);
    if (found.length > 0) return;
    setBusy(true);
    try {
      await app.client.createSegment(app.project.key, app.env.key, { key, name: name.trim() });
      app.toast(`Created segment ${key} in ${app.env.name}`);
      onClose();
      navigate(projectPath(app.project.key, `/segments/${encodeURIComponent(key)}`));
    } catch (err) {
      setProblems(
        err instanceof ApiError && err.errors.length > 0
          ? err.errors
          : [{ path: '', message: (err as Error).message }],
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={`New segment in ${app.env.name}`} onClose={onClose}>
      <form class="stack" onSubmit={submit} noValidate>
        <ProblemSummary
          problems={problems.filter((p) => p.path !== '/key' && p.path !== '/name')}
          title="The segment was not created"
        />
        <label class="field">
          <span>Name</span>
          <input type="text" value={name} data-autofocus onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <FieldProblems problems={problems} path="/name" />
        <label class="field">
          <span>Key</span>
          <input type="text" value={key} spellcheck={false} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <FieldProblems problems={problems} path="/key" />
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy}>
            Create segment
          </button>
        </div>
      </form>
    </Dialog>
  );
}
