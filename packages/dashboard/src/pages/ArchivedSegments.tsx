import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import type { Segment } from '../api/types.js';
import { ArchivedTable } from '../components/ArchivedTable.js';
import { projectPath, useApp } from '../state.js';

/** The current environment's archived segments (segments belong to one environment), each with a way back. */
export function ArchivedSegments() {
  const app = useApp();
  const { client, project, env, can } = app;
  const [segments, setSegments] = useState<Segment[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();

  const load = useCallback(async () => {
    try {
      setSegments(await client.segments(project.key, env.key, { archived: true }));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [client, project.key, env.key]);
  useEffect(() => {
    void load();
  }, [load]);
  // Archived or restored elsewhere (another person, the API): the list follows.
  useEffect(
    () =>
      app.onChange((n) => {
        if (n === 'resync' || (n.kind === 'segment' && n.envKey === env.key)) void load();
      }),
    [app, env.key, load],
  );

  const restore = async (segment: Segment) => {
    setBusy(segment.key);
    try {
      await client.setSegmentArchived(project.key, env.key, segment.key, false);
      app.toast(`Restored segment ${segment.key} in ${env.name}`);
      await load();
    } catch (err) {
      // The service checks the restored segment still holds together and names what does not.
      const detail =
        err instanceof ApiError && err.errors.length > 0
          ? err.errors.map((e) => `${e.path ? `${e.path}: ` : ''}${e.message}`).join('; ')
          : (err as Error).message;
      app.toast(`Could not restore ${segment.key}: ${detail}`, 'error');
    } finally {
      setBusy(undefined);
    }
  };

  if (error) {
    return (
      <p class="notice" role="alert">
        {error}
      </p>
    );
  }
  if (!segments) {
    return (
      <p class="muted" aria-busy="true">
        Loading archived segments…
      </p>
    );
  }
  if (segments.length === 0) return <p class="muted">No archived segments in {env.name}.</p>;
  return (
    <ArchivedTable
      kind="segment"
      items={segments}
      caption={`Archived segments of ${project.name} in ${env.name}`}
      hrefFor={(segment) => projectPath(project.key, `/segments/${encodeURIComponent(segment.key)}`)}
      canRestore={can.write}
      busy={busy}
      onRestore={(item) => void restore(item)}
    />
  );
}
