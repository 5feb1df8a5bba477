import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import type { Flag } from '../api/types.js';
import { ConflictDialog } from '../components/ConflictDialog.js';
import { EditGroup } from '../components/EditGroup.js';
import { FieldProblems, ProblemSummary } from '../components/Problems.js';
import { SaveDialog } from '../components/SaveDialog.js';
import { VariationEditor } from '../components/VariationEditor.js';
import { diffJson } from '../lib/diff.js';
import { Link } from '../router.js';
import { projectPath, READ_ONLY_NOTICE_ID, useApp } from '../state.js';
import {
  ambiguityProblem,
  buildDefinition,
  DEFINITION_FIELDS,
  type DefinitionDraft,
  definitionDoc,
  newVariation,
  removalRefusal,
  toDefinitionDraft,
  type VariationDraft,
} from '../targeting/definitionDraft.js';
import { type Problem, replaceOps } from '../targeting/draft.js';

/** Paths shown at their own field; anything else goes to the summary at the top. */
const FIELD_PATH = /^\/(name|description|tags|variations(\/\d+\/(value|name|description))?)$/;

/**
 * Edits a flag's definition (shared by every environment): name, description, tags, temporary, and
 * the variations. Saved like targeting: a diff, a comment, and a reload prompt on a `409`.
 */
export function FlagDefinitionPage({ flagKey }: { flagKey: string }) {
  const app = useApp();
  const { client, project, can } = app;
  const [flag, setFlag] = useState<Flag>();
  const [draft, setDraft] = useState<DefinitionDraft>();
  const [loadError, setLoadError] = useState<string>();
  const [reviewing, setReviewing] = useState(false);
  const [conflict, setConflict] = useState(false);
  const [staleNotice, setStaleNotice] = useState(false);
  const [saveProblems, setSaveProblems] = useState<Problem[]>([]);
  /** Refused removals, by variation id, shown at the variation. */
  const [refusals, setRefusals] = useState<Record<number, string>>({});

  const load = useCallback(async () => {
    try {
      const f = await client.flag(project.key, flagKey);
      setFlag(f);
      setDraft(toDefinitionDraft(f));
      setLoadError(undefined);
      setStaleNotice(false);
      setRefusals({});
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

  const before = useMemo(() => (flag ? definitionDoc(flag) : undefined), [flag]);
  const built = useMemo(() => (draft ? buildDefinition(draft) : undefined), [draft]);
  const ops = built && before ? replaceOps(before, built.doc, DEFINITION_FIELDS) : [];
  const dirty = ops.length > 0;
  const problems =
    built && flag && draft && built.problems.length === 0 && dirty
      ? ambiguityProblem(draft, flag.variations, built.doc)
      : (built?.problems ?? []);

  // Live updates: re-read when the flag changes elsewhere, unless that would throw edits away.
  useEffect(
    () =>
      app.onChange((notice) => {
        if (notice !== 'resync' && !(notice.kind === 'flag' && notice.key === flagKey)) return;
        if (dirty) setStaleNotice(true);
        else void load();
      }),
    [app, flagKey, load, dirty],
  );

  const back = (
    <p>
      <Link href={projectPath(project.key, `/flags/${encodeURIComponent(flagKey)}`)}>
        ← {flag?.name ?? flagKey}
      </Link>
    </p>
  );
  if (loadError) {
    return (
      <section class="stack">
        {back}
        <p class="notice" role="alert">
          {loadError}
        </p>
      </section>
    );
  }
  if (!flag || !draft || !built || !before) {
    return (
      <p class="muted" aria-busy="true">
        Loading {flagKey}…
      </p>
    );
  }

  const set = (patch: Partial<DefinitionDraft>) => {
    setDraft({ ...draft, ...patch });
    setSaveProblems([]);
  };
  const setVariation = (id: number, patch: Partial<VariationDraft>) =>
    set({ variations: draft.variations.map((v) => (v.id === id ? { ...v, ...patch } : v)) });
  const envName = (key: string) => app.environments.find((e) => e.key === key)?.name ?? key;
  const remove = (v: VariationDraft) => {
    // Refused here, as the service would refuse it, with the places that still serve it.
    const refusal = v.saved !== undefined ? removalRefusal(flag, v.saved, envName) : undefined;
    if (refusal) {
      setRefusals({ ...refusals, [v.id]: refusal });
      return;
    }
    set({ variations: draft.variations.filter((x) => x.id !== v.id) });
  };
  const save = async (comment: string) => {
    try {
      const next = await client.patchFlag(project.key, flag.key, ops, flag.version, comment);
      setFlag(next);
      setDraft(toDefinitionDraft(next));
      setReviewing(false);
      setSaveProblems([]);
      setRefusals({});
      app.toast(`Saved the definition of ${flag.key}`);
      void app.reloadFlags();
    } catch (err) {
      setReviewing(false);
      if (err instanceof ApiError && err.isConflict) setConflict(true);
      else if (err instanceof ApiError && err.errors.length > 0) setSaveProblems(err.errors);
      else setSaveProblems([{ path: '', message: (err as Error).message }]);
    }
  };
  const shown = dirty ? [...problems, ...saveProblems] : saveProblems;
  const critical = app.environments.filter((e) => e.critical);

  return (
    <section class="stack definition">
      {back}
      <div class="page-head">
        <div>
          <h1>{can.write ? `Edit ${flag.name}` : `Definition of ${flag.name}`}</h1>
          <p class="flag-meta">
            <code>{flag.key}</code> · definition version {flag.version} · shared by every environment
          </p>
        </div>
      </div>
      {flag.archived ? (
        <p class="notice" role="alert">
          This flag is archived: restore it from its page before changing it.
        </p>
      ) : null}
      {staleNotice ? (
        <div class="notice row" role="alert">
          <span>
            This flag was changed by someone else while you were editing. Reload to see their change (your
            edits will be discarded).
          </span>
          <button type="button" class="button small" onClick={() => void load()}>
            Reload
          </button>
        </div>
      ) : null}
      <ProblemSummary
        problems={saveProblems.filter((p) => !FIELD_PATH.test(p.path))}
        title="The service refused the change"
      />

      <EditGroup lockedBecause={can.readOnlyReason} noticeId={READ_ONLY_NOTICE_ID}>
        <div class="row">
          <label class="field grow">
            <span>Name</span>
            <input
              type="text"
              value={draft.name}
              aria-invalid={shown.some((p) => p.path === '/name') || undefined}
              aria-describedby="definition-name-problems"
              onInput={(e) => set({ name: e.currentTarget.value })}
            />
          </label>
          <label class="field grow">
            <span>Tags (comma-separated)</span>
            <input
              type="text"
              value={draft.tags}
              aria-invalid={shown.some((p) => p.path === '/tags') || undefined}
              aria-describedby="definition-tags-problems"
              onInput={(e) => set({ tags: e.currentTarget.value })}
            />
          </label>
        </div>
        <FieldProblems problems={shown} path="/name" id="definition-name-problems" />
        <FieldProblems problems={shown} path="/tags" id="definition-tags-problems" />
        <label class="field">
          <span>Description</span>
          <textarea
            rows={2}
            value={draft.description}
            onInput={(e) => set({ description: e.currentTarget.value })}
          />
        </label>
        <FieldProblems problems={shown} path="/description" />
        <label class="check">
          <input
            type="checkbox"
            checked={draft.temporary}
            onChange={(e) => set({ temporary: e.currentTarget.checked })}
          />
          <span>Temporary (to be removed from code once rolled out; unticked: permanent)</span>
        </label>

        <fieldset class="section">
          <legend>Variations</legend>
          <p class="muted">
            {draft.kind === 'boolean'
              ? 'A boolean flag serves true or false; name and describe them here.'
              : `Values are ${draft.kind === 'json' ? 'JSON' : `${draft.kind}s`}. Targeting follows a variation whose value you edit; a variation still served somewhere cannot be removed.`}
          </p>
          <FieldProblems problems={shown} path="/variations" />
          {draft.variations.map((v, i) => (
            <VariationEditor
              key={v.id}
              index={i}
              kind={draft.kind}
              variation={v}
              problems={shown}
              refusal={refusals[v.id]}
              canRemove={draft.kind !== 'boolean'}
              onChange={(patch) => setVariation(v.id, patch)}
              onRemove={() => remove(v)}
            />
          ))}
          {draft.kind !== 'boolean' ? (
            <button
              type="button"
              class="button small"
              onClick={() => set({ variations: [...draft.variations, newVariation(draft)] })}
            >
              Add variation
            </button>
          ) : null}
        </fieldset>
      </EditGroup>

      {can.write ? (
        <section class="save-bar" aria-label="Save changes">
          <span class={dirty && problems.length > 0 ? 'bad' : 'muted'}>
            {dirty && problems.length > 0
              ? `${problems.length} problem${problems.length === 1 ? '' : 's'} to fix before saving`
              : dirty
                ? `${ops.length} part${ops.length === 1 ? '' : 's'} changed`
                : 'No unsaved changes'}
          </span>
          <button
            type="button"
            class="button"
            disabled={!dirty}
            onClick={() => {
              setDraft(toDefinitionDraft(flag));
              setSaveProblems([]);
              setRefusals({});
            }}
          >
            Discard
          </button>
          <button
            type="button"
            class="button primary"
            disabled={!dirty || problems.length > 0 || flag.archived}
            onClick={() => setReviewing(true)}
          >
            Review and save
          </button>
        </section>
      ) : null}

      {reviewing ? (
        <SaveDialog
          title={`Save the definition of ${flag.key}`}
          diff={diffJson(before, built.doc)}
          // The definition reaches every environment, critical ones included.
          requireComment={critical.length > 0}
          onSave={save}
          onClose={() => setReviewing(false)}
        />
      ) : null}
      {conflict ? (
        <ConflictDialog
          what={`“${flag.name}”`}
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
