import { useCallback, useEffect, useState } from 'preact/hooks';
import type { FlagSummary } from '../api/types.js';
import { ArchivedTable } from '../components/ArchivedTable.js';
import { projectPath, useApp } from '../state.js';

/** The project's archived flags, each with a way back. */
export function ArchivedFlags() {
  const app = useApp();
  const { client, project, can } = app;
  const [flags, setFlags] = useState<FlagSummary[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();

  const load = useCallback(async () => {
    try {
      setFlags(await client.flags(project.key, { archived: true }));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [client, project.key]);
  useEffect(() => {
    void load();
  }, [load]);
  useEffect(
    () =>
      app.onChange((n) => {
        if (n === 'resync' || n.kind === 'flag') void load();
      }),
    [app, load],
  );

  const restore = async (flag: FlagSummary) => {
    setBusy(flag.key);
    try {
      await client.setFlagArchived(project.key, flag.key, false);
      app.toast(`Restored ${flag.key}`);
      await Promise.all([load(), app.reloadFlags()]);
    } catch (err) {
      // A restored flag must still hold together (say, a segment it uses was archived meanwhile).
      app.toast(`Could not restore ${flag.key}: ${(err as Error).message}`, 'error');
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
  if (!flags) {
    return (
      <p class="muted" aria-busy="true">
        Loading archived flags…
      </p>
    );
  }
  if (flags.length === 0) return <p class="muted">No archived flags.</p>;
  return (
    <ArchivedTable
      kind="flag"
      items={flags}
      caption={`Archived flags of ${project.name}`}
      hrefFor={(flag) => projectPath(project.key, `/flags/${encodeURIComponent(flag.key)}`)}
      canRestore={can.write}
      busy={busy}
      onRestore={(item) => void restore(item)}
    />
  );
}
