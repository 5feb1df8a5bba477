import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import type { Flag, TargetingDoc } from '../api/types.js';
import { ArchiveDialog } from '../components/ArchiveDialog.js';
import { ConflictDialog } from '../components/ConflictDialog.js';
import { EditGroup } from '../components/EditGroup.js';
import { ProblemSummary } from '../components/Problems.js';
import { SaveDialog } from '../components/SaveDialog.js';
import { diffJson } from '../lib/diff.js';
import { shortValue } from '../lib/format.js';
import { Link, navigate } from '../router.js';
import { projectPath, READ_ONLY_NOTICE_ID, useApp } from '../state.js';
import {
  buildTargeting,
  EDITED_FIELDS,
  editable,
  replaceOps,
  type TargetingDraft,
  toDraft,
} from '../targeting/draft.js';
import { PreviewPanel } from './PreviewPanel.js';
import { TargetingEditor } from './TargetingEditor.js';

/** A flag: its variations, and its targeting in the current environment with an editor and a preview. */
export function FlagDetailPage({ flagKey }: { flagKey: string }) {
  const app = useApp();
  const { client, project, env, can } = app;
  const [flag, setFlag] = useState<Flag>();
  const [loadError, setLoadError] = useState<string>();
  /** Edits per environment, so switching environments does not lose them. */
  const [drafts, setDrafts] = useState<Record<string, TargetingDraft>>({});
  const [reviewing, setReviewing] = useState(false);
  const [conflict, setConflict] = useState(false);
  const [staleNotice, setStaleNotice] = useState(false);
  const [saveProblems, setSaveProblems] = useState<{ path: string; message: string }[]>([]);
  const [segmentKeys, setSegmentKeys] = useState<string[]>([]);
  const [archiving, setArchiving] = useState(false);
  const [restoring, setRestoring] = useState(false);

  const load = useCallback(async () => {
    try {
      setFlag(await client.flag(project.key, flagKey));
      setLoadError(undefined);
    } catch (err) {
      setLoadError(
        err instanceof ApiError && err.status === 404
          ? `There is no flag “${flagKey}” in ${project.name}.`
          : (err as Error).message,
      );
    }
  }, [client, project.key, project.name, flagKey]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    client.segments(project.key, env.key).then(
      (list) => setSegmentKeys(list.filter((s) => !s.archived).map((s) => s.key)),
      () => setSegmentKeys([]),
    );
  }, [client, project.key, env.key]);

  const saved: TargetingDoc | undefined = flag?.environments[env.key];
  const draft = useMemo(
    () => drafts[env.key] ?? (saved && flag ? toDraft(saved, flag.variations.length) : undefined),
    [drafts, env.key, saved, flag],
  );
  const built = useMemo(
    () => (draft && saved && flag ? buildTargeting(draft, saved, flag.variations.length) : undefined),
    [draft, saved, flag],
  );
  const ops = built && saved ? replaceOps(saved, built.doc, EDITED_FIELDS) : [];
  const dirty = drafts[env.key] !== undefined && ops.length > 0;

  // Live updates: re-read when this flag changes elsewhere; with unsaved edits, say so instead of
  // replacing them under the person's hands.
  const dirtyNow = dirty;
  useEffect(
    () =>
      app.onChange((notice) => {
        const concerns =
          notice === 'resync' ||
          (notice.kind === 'flag' && notice.key === flagKey) ||
          notice.kind === 'project';
        if (!concerns) return;
        if (dirtyNow) setStaleNotice(true);
        else void load();
      }),
    [app, flagKey, load, dirtyNow],
  );

  if (loadError) {
    return (
      <section class="stack">
        <p>
          <Link href={projectPath(project.key, '/flags')}>← Flags</Link>
        </p>
        <p class="notice" role="alert">
          {loadError}
        </p>
      </section>
    );
  }
  if (!flag || !draft || !built || !saved) {
    return (
      <p class="muted" aria-busy="true">
        Loading {flagKey}…
      </p>
    );
  }

  const setDraft = (next: TargetingDraft) => setDrafts((all) => ({ ...all, [env.key]: next }));
  const discard = () => {
    setDrafts((all) => {
      const { [env.key]: _gone, ...rest } = all;
      return rest;
    });
    setSaveProblems([]);
  };
  const reload = async () => {
    setStaleNotice(false);
    setConflict(false);
    setSaveProblems([]);
    // The edits go once the fresh flag is here: cleared first, the old flag would show for a moment
    // as "No unsaved changes", as if it were what the service now holds.
    await load();
    setDrafts({});
  };
  const save = async (comment: string) => {
    try {
      const next = await client.patchTargeting(project.key, env.key, flag.key, ops, saved.version, comment);
      setFlag({ ...flag, environments: { ...flag.environments, [env.key]: next } });
      discard();
      setReviewing(false);
      app.toast(`Saved ${flag.key} in ${env.name} (version ${next.version})`);
      void app.reloadFlags();
    } catch (err) {
      setReviewing(false);
      if (err instanceof ApiError && err.isConflict) setConflict(true);
      else if (err instanceof ApiError && err.errors.length > 0) setSaveProblems(err.errors);
      else setSaveProblems([{ path: '', message: (err as Error).message }]);
    }
  };

  const archive = async (comment: string) => {
    await client.setFlagArchived(project.key, flag.key, true, comment);
    setArchiving(false);
    app.toast(`Archived ${flag.key}: SDKs no longer receive it`);
    await app.reloadFlags();
    navigate(projectPath(project.key, '/flags'));
  };
  const restore = async () => {
    setRestoring(true);
    try {
      setFlag(await client.setFlagArchived(project.key, flag.key, false));
      app.toast(`Restored ${flag.key}`);
      void app.reloadFlags();
    } catch (err) {
      setSaveProblems(
        err instanceof ApiError && err.errors.length > 0
          ? err.errors
          : [{ path: '', message: (err as Error).message }],
      );
    } finally {
      setRestoring(false);
    }
  };
  const envName = (key: string) => app.environments.find((e) => e.key === key)?.name ?? key;

  const otherFlags = app.flags.filter((f) => f.key !== flag.key);
  return (
    <div class="detail">
      <section class="stack detail-main">
        <p>
          <Link href={projectPath(project.key, '/flags')}>← Flags</Link>
        </p>
        <div class="page-head">
          <div>
            <h1>{flag.name}</h1>
            <p class="flag-meta">
              <code>{flag.key}</code> ·{' '}
              {flag.kind === 'boolean' ? 'boolean' : `${flag.variations.length} variations`}
              {flag.temporary ? ' · temporary' : ''}
              {flag.tags.map((t) => (
                <span class="tag" key={t}>
                  {t}
                </span>
              ))}
            </p>
            {flag.description ? <p>{flag.description}</p> : null}
          </div>
          {flag.archived ? null : (
            <div class="head-actions">
              <Link
                class="button"
                href={projectPath(project.key, `/flags/${encodeURIComponent(flag.key)}/definition`)}
              >
                {can.write ? 'Edit definition' : 'View definition'}
              </Link>
              {can.write ? (
                <button type="button" class="button danger" onClick={() => setArchiving(true)}>
                  Archive flag
                </button>
              ) : null}
            </div>
          )}
        </div>
        {flag.archived ? (
          <div class="notice row" role="status">
            <span>
              This flag is archived: SDKs do not receive it and it cannot be changed.
              {can.write
                ? ' Restore it to use it again (it comes back as it was, off where it was off).'
                : ' A writer or admin token can restore it.'}
            </span>
            {can.write ? (
              <button type="button" class="button small" disabled={restoring} onClick={() => void restore()}>
                {restoring ? 'Restoring…' : `Restore ${flag.key}`}
              </button>
            ) : null}
          </div>
        ) : null}

        <details class="card">
          <summary>Variations ({flag.variations.length})</summary>
          <table class="simple">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {flag.variations.map((v, i) => (
                <tr key={i}>
                  <td>{i}</td>
                  <td>{v.name ?? '—'}</td>
                  <td>
                    <code>{shortValue(v.value, 120)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>

        {flag.archived ? (
          <ProblemSummary problems={saveProblems} title="The service refused to restore it" />
        ) : (
          <>
            <div class="env-heading">
              <h2>
                Targeting in <span class="env-name">{env.name}</span>
              </h2>
              <span class="muted">version {saved.version}</span>
              {env.critical ? <span class="badge critical">critical</span> : null}
            </div>

            {staleNotice ? (
              <div class="notice row" role="alert">
                <span>
                  This flag was changed by someone else while you were editing. Reload to see their change
                  (your edits will be discarded).
                </span>
                <button type="button" class="button small" onClick={() => void reload()}>
                  Reload
                </button>
              </div>
            ) : null}
            <ProblemSummary problems={saveProblems} title="The service refused the change" />

            <EditGroup lockedBecause={can.readOnlyReason} noticeId={READ_ONLY_NOTICE_ID}>
              <TargetingEditor
                flag={flag}
                env={env}
                draft={draft}
                problems={dirty ? built.problems : []}
                otherFlags={otherFlags}
                segmentKeys={segmentKeys}
                onChange={setDraft}
              />
            </EditGroup>

            {can.write ? (
              <section class="save-bar" aria-label="Save changes">
                {dirty && built.problems.length > 0 ? (
                  <span class="bad">
                    {built.problems.length} problem{built.problems.length === 1 ? '' : 's'} to fix before
                    saving
                  </span>
                ) : (
                  <span class="muted">
                    {dirty
                      ? `${ops.length} part${ops.length === 1 ? '' : 's'} changed`
                      : 'No unsaved changes'}
                  </span>
                )}
                <button type="button" class="button" disabled={!dirty} onClick={discard}>
                  Discard
                </button>
                <button
                  type="button"
                  class="button primary"
                  disabled={!dirty || built.problems.length > 0}
                  onClick={() => setReviewing(true)}
                >
                  Review and save
                </button>
              </section>
            ) : null}
          </>
        )}
      </section>

      <aside class="detail-side">
        <PreviewPanel
          flag={flag}
          env={env}
          draft={built.problems.length === 0 ? built.doc : undefined}
          dirty={dirty}
        />
      </aside>

      {reviewing ? (
        <SaveDialog
          title={`Save ${flag.key} in ${env.name}`}
          diff={diffJson(editable(saved), editable(built.doc))}
          requireComment={env.critical}
          onSave={save}
          onClose={() => setReviewing(false)}
        />
      ) : null}
      {archiving ? (
        <ArchiveDialog
          what="flag"
          itemKey={flag.key}
          consequence={`Archiving ${flag.key} removes it from every environment: SDKs receive it as deleted and serve their default value for it.`}
          loadDependents={async () =>
            (await client.flagDependents(project.key, flag.key)).items.map(
              (d) => `flag ${d.flagKey} needs it as a prerequisite in ${envName(d.envKey)}`,
            )
          }
          onArchive={archive}
          onClose={() => setArchiving(false)}
        />
      ) : null}
      {conflict ? (
        <ConflictDialog
          what={`“${flag.name}” in ${env.name}`}
          onClose={() => setConflict(false)}
          onReload={() => void reload()}
        />
      ) : null}
    </div>
  );
}
