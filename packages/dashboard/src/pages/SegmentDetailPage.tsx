import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import type { Segment } from '../api/types.js';
import { ArchiveDialog } from '../components/ArchiveDialog.js';
import { ClauseEditor } from '../components/ClauseEditor.js';
import { ConflictDialog } from '../components/ConflictDialog.js';
import { EditGroup } from '../components/EditGroup.js';
import { FieldProblems, ProblemSummary } from '../components/Problems.js';
import { SaveDialog } from '../components/SaveDialog.js';
import { diffJson } from '../lib/diff.js';
import { Link, navigate } from '../router.js';
import { projectPath, READ_ONLY_NOTICE_ID, useApp } from '../state.js';
import { newClause, replaceOps } from '../targeting/draft.js';
import {
  buildSegment,
  newSegmentRule,
  SEGMENT_FIELDS,
  type SegmentDraft,
  type SegmentTargetDraft,
  segmentDoc,
  segmentToDraft,
} from '../targeting/segmentDraft.js';

/** Edits one segment of the current environment: keys in and out, contexts of other kinds, rules. */
export function SegmentDetailPage({ segmentKey }: { segmentKey: string }) {
  const app = useApp();
  const { client, project, env, can } = app;
  const [segment, setSegment] = useState<Segment>();
  const [draft, setDraft] = useState<SegmentDraft>();
  const [error, setError] = useState<string>();
  const [reviewing, setReviewing] = useState(false);
  const [conflict, setConflict] = useState(false);
  const [saveProblems, setSaveProblems] = useState<{ path: string; message: string }[]>([]);
  const [archiving, setArchiving] = useState(false);
  const [restoring, setRestoring] = useState(false);

  const load = useCallback(async () => {
    try {
      const s = await client.segment(project.key, env.key, segmentKey);
      setSegment(s);
      setDraft(segmentToDraft(s));
      setError(undefined);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 404
          ? `There is no segment “${segmentKey}” in ${env.name}.`
          : (err as Error).message,
      );
    }
  }, [client, project.key, env.key, env.name, segmentKey]);
  useEffect(() => {
    void load();
  }, [load]);

  const built = useMemo(() => (draft ? buildSegment(draft) : undefined), [draft]);
  const before = segment ? segmentDoc(segment) : undefined;
  const ops = built && before ? replaceOps(before, built.doc, SEGMENT_FIELDS) : [];
  const dirty = ops.length > 0;

  useEffect(
    () =>
      app.onChange((n) => {
        if (n === 'resync' || (n.kind === 'segment' && n.key === segmentKey && n.envKey === env.key)) {
          if (!dirty) void load();
        }
      }),
    [app, segmentKey, env.key, dirty, load],
  );

  if (error) {
    return (
      <section class="stack">
        <Link href={projectPath(project.key, '/segments')}>← Segments</Link>
        <p class="notice" role="alert">
          {error}
        </p>
      </section>
    );
  }
  if (!segment || !draft || !built || !before) return <p class="muted">Loading {segmentKey}…</p>;

  const problems = dirty ? built.problems : [];
  // An archived segment cannot be changed (the service refuses): it is shown, locked, with Restore.
  const lockedBecause = segment.archived ? `Segment ${segment.key} is archived` : can.readOnlyReason;
  const lockNotice = segment.archived ? 'segment-archived-notice' : READ_ONLY_NOTICE_ID;
  const editable = lockedBecause === undefined;
  const restore = async () => {
    setRestoring(true);
    try {
      const next = await client.setSegmentArchived(project.key, env.key, segment.key, false);
      setSegment(next);
      setDraft(segmentToDraft(next));
      setSaveProblems([]);
      app.toast(`Restored segment ${segment.key} in ${env.name}`);
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
  const set = (patch: Partial<SegmentDraft>) => setDraft({ ...draft, ...patch });
  const save = async (comment: string) => {
    try {
      const next = await client.patchSegment(
        project.key,
        env.key,
        segment.key,
        ops,
        segment.version,
        comment,
      );
      setSegment(next);
      setDraft(segmentToDraft(next));
      setReviewing(false);
      setSaveProblems([]);
      app.toast(`Saved segment ${segment.key} (version ${next.version})`);
    } catch (err) {
      setReviewing(false);
      if (err instanceof ApiError && err.isConflict) setConflict(true);
      else
        setSaveProblems(
          err instanceof ApiError && err.errors.length > 0
            ? err.errors
            : [{ path: '', message: (err as Error).message }],
        );
    }
  };
  const contextList = (field: 'includedContexts' | 'excludedContexts', title: string) => (
    <fieldset class="section">
      <legend>{title}</legend>
      {draft[field].map((t, i) => {
        const update = (patch: Partial<SegmentTargetDraft>) =>
          set({ [field]: draft[field].map((u, j) => (j === i ? { ...u, ...patch } : u)) });
        return (
          <div class="row" key={i}>
            <label class="field">
              <span>Context kind</span>
              <input
                type="text"
                value={t.contextKind}
                onInput={(e) => update({ contextKind: e.currentTarget.value })}
              />
            </label>
            <label class="field grow">
              <span>Keys, one per line</span>
              <textarea
                rows={2}
                value={t.values}
                onInput={(e) => update({ values: e.currentTarget.value })}
              />
            </label>
            <button
              type="button"
              class="button small"
              onClick={() => set({ [field]: draft[field].filter((_, j) => j !== i) })}
            >
              Remove
            </button>
            <FieldProblems problems={problems} path={`/${field}/${i}/contextKind`} />
            <FieldProblems problems={problems} path={`/${field}/${i}/values`} />
          </div>
        );
      })}
      <button
        type="button"
        class="button small"
        onClick={() => set({ [field]: [...draft[field], { contextKind: '', values: '' }] })}
      >
        Add {field === 'includedContexts' ? 'included' : 'excluded'} contexts of another kind
      </button>
    </fieldset>
  );

  return (
    <section class="stack">
      <Link href={projectPath(project.key, '/segments')}>← Segments</Link>
      <div class="page-head">
        <div>
          <h1>{segment.name}</h1>
          <p class="flag-meta">
            <code>{segment.key}</code> · {env.name} · version {segment.version}
          </p>
        </div>
        {editable ? (
          <div class="head-actions">
            <button type="button" class="button danger" onClick={() => setArchiving(true)}>
              Archive segment
            </button>
          </div>
        ) : null}
      </div>
      {segment.archived ? (
        <div class="notice row" role="status" id="segment-archived-notice">
          <span>
            This segment is archived in {env.name}: SDKs do not receive it, rules cannot use it, and it cannot
            be changed.
            {can.write ? ' Restore it to use it again.' : ' A writer or admin token can restore it.'}
          </span>
          {can.write ? (
            <button type="button" class="button small" disabled={restoring} onClick={() => void restore()}>
              {restoring ? 'Restoring…' : `Restore ${segment.key}`}
            </button>
          ) : null}
        </div>
      ) : null}
      <ProblemSummary
        problems={saveProblems}
        title={segment.archived ? 'The service refused to restore it' : 'The service refused the change'}
      />
      <EditGroup lockedBecause={lockedBecause} noticeId={lockNotice}>
        <div class="row">
          <label class="field grow">
            <span>Name</span>
            <input type="text" value={draft.name} onInput={(e) => set({ name: e.currentTarget.value })} />
          </label>
          <label class="field grow">
            <span>Tags (comma-separated)</span>
            <input type="text" value={draft.tags} onInput={(e) => set({ tags: e.currentTarget.value })} />
          </label>
        </div>
        <FieldProblems problems={problems} path="/name" />
        <label class="field">
          <span>Description</span>
          <input
            type="text"
            value={draft.description}
            onInput={(e) => set({ description: e.currentTarget.value })}
          />
        </label>
        <div class="row">
          <label class="field grow">
            <span>Included user keys, one per line</span>
            <textarea
              rows={3}
              value={draft.included}
              onInput={(e) => set({ included: e.currentTarget.value })}
            />
          </label>
          <label class="field grow">
            <span>Excluded user keys, one per line</span>
            <textarea
              rows={3}
              value={draft.excluded}
              onInput={(e) => set({ excluded: e.currentTarget.value })}
            />
          </label>
        </div>
        <FieldProblems problems={problems} path="/excluded" />
        {contextList('includedContexts', 'Included contexts of other kinds')}
        {contextList('excludedContexts', 'Excluded contexts of other kinds')}
        <fieldset class="section">
          <legend>Rules</legend>
          <p class="muted">
            A context is in the segment when all conditions of any rule match (and it falls in the percentage,
            if one is set).
          </p>
          {draft.rules.map((rule, i) => {
            const update = (patch: Partial<typeof rule>) =>
              set({ rules: draft.rules.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
            return (
              <fieldset class="rule card" key={rule.id ?? `new-${i}`} aria-label={`Segment rule ${i + 1}`}>
                <div class="rule-head">
                  <h3>Rule {i + 1}</h3>
                  <button
                    type="button"
                    class="button small danger"
                    onClick={() => set({ rules: draft.rules.filter((_, j) => j !== i) })}
                  >
                    Delete rule {i + 1}
                  </button>
                </div>
                {rule.clauses.map((c, j) => (
                  <ClauseEditor
                    key={j}
                    index={j}
                    clause={c}
                    path={`/rules/${i}/clauses/${j}`}
                    problems={problems}
                    segmentKeys={[]}
                    onChange={(next) => update({ clauses: rule.clauses.map((x, k) => (k === j ? next : x)) })}
                    onRemove={() => update({ clauses: rule.clauses.filter((_, k) => k !== j) })}
                  />
                ))}
                <button
                  type="button"
                  class="button small"
                  onClick={() => update({ clauses: [...rule.clauses, newClause()] })}
                >
                  Add condition to rule {i + 1}
                </button>
                <div class="row">
                  <label class="field">
                    <span>Include only this % of matches (empty: all)</span>
                    <input
                      type="text"
                      inputMode="decimal"
                      class="percent"
                      value={rule.percent}
                      onInput={(e) => update({ percent: e.currentTarget.value })}
                    />
                  </label>
                  <label class="field">
                    <span>Bucket by (default key)</span>
                    <input
                      type="text"
                      value={rule.bucketBy}
                      onInput={(e) => update({ bucketBy: e.currentTarget.value })}
                    />
                  </label>
                </div>
                <FieldProblems problems={problems} path={`/rules/${i}/weight`} />
                <FieldProblems problems={problems} path={`/rules/${i}/clauses`} />
              </fieldset>
            );
          })}
          <button
            type="button"
            class="button"
            onClick={() => set({ rules: [...draft.rules, newSegmentRule()] })}
          >
            Add rule
          </button>
        </fieldset>
      </EditGroup>
      {editable ? (
        <section class="save-bar" aria-label="Save changes">
          <span class={problems.length > 0 ? 'bad' : 'muted'}>
            {problems.length > 0
              ? `${problems.length} problem${problems.length === 1 ? '' : 's'} to fix before saving`
              : dirty
                ? 'Unsaved changes'
                : 'No unsaved changes'}
          </span>
          <button
            type="button"
            class="button"
            disabled={!dirty}
            onClick={() => setDraft(segmentToDraft(segment))}
          >
            Discard
          </button>
          <button
            type="button"
            class="button primary"
            disabled={!dirty || problems.length > 0}
            onClick={() => setReviewing(true)}
          >
            Review and save
          </button>
        </section>
      ) : null}
      {reviewing ? (
        <SaveDialog
          title={`Save segment ${segment.key} in ${env.name}`}
          diff={diffJson(before, built.doc)}
          requireComment={env.critical}
          onSave={save}
          onClose={() => setReviewing(false)}
        />
      ) : null}
      {archiving ? (
        <ArchiveDialog
          what="segment"
          itemKey={segment.key}
          consequence={`Archiving ${segment.key} removes it from ${env.name}: SDKs receive it as deleted, and nothing can match against it.`}
          loadDependents={async () =>
            (await client.segmentDependents(project.key, env.key, segment.key)).items.map(
              (d) => `${d.kind} ${d.key} uses it in a rule`,
            )
          }
          onArchive={async (comment) => {
            await client.setSegmentArchived(project.key, env.key, segment.key, true, comment);
            setArchiving(false);
            app.toast(`Archived segment ${segment.key} in ${env.name}`);
            navigate(projectPath(project.key, '/segments'));
          }}
          onClose={() => setArchiving(false)}
        />
      ) : null}
      {conflict ? (
        <ConflictDialog
          what={`Segment “${segment.name}”`}
          onClose={() => setConflict(false)}
          onReload={() => {
            setConflict(false);
            void load();
          }}
        />
      ) : null}
    </section>
  );
}
