import { useCallback, useEffect, useState } from 'preact/hooks';
import type { AuditEntry } from '../api/types.js';
import { DiffView } from '../components/DiffView.js';
import { Field } from '../components/Field.js';
import { diffJson } from '../lib/diff.js';
import { formatTime } from '../lib/format.js';
import { navigate, useLocation } from '../router.js';
import { useApp } from '../state.js';

const KINDS = ['flag', 'segment', 'environment', 'project', 'webhook'];

/** Who changed what, when and why, newest first, each entry with the diff of the change. */
export function AuditPage() {
  const app = useApp();
  const { query } = useLocation();
  const env = query.get('env') ?? '';
  const kind = query.get('kind') ?? '';
  const key = query.get('key') ?? '';
  const [entries, setEntries] = useState<AuditEntry[]>();
  const [next, setNext] = useState<number>();
  const [error, setError] = useState<string>();
  const [keyInput, setKeyInput] = useState(key);

  const setFilter = (name: string, value: string) => {
    const params = new URLSearchParams(window.location.search);
    if (value) params.set(name, value);
    else params.delete(name);
    const qs = params.toString();
    navigate(`${window.location.pathname}${qs ? `?${qs}` : ''}`, { replace: true });
  };
  const resource = kind ? (key ? `${kind}:${key}` : kind) : undefined;

  const load = useCallback(
    async (before?: number) => {
      try {
        const page = await app.client.audit({
          project: app.project.key,
          env: env || undefined,
          resource,
          before,
        });
        setEntries((current) => (before !== undefined ? [...(current ?? []), ...page.items] : page.items));
        setNext(page.next);
        setError(undefined);
      } catch (err) {
        setError((err as Error).message);
      }
    },
    [app.client, app.project.key, env, resource],
  );
  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => app.onChange(() => void load()), [app, load]);

  return (
    <section class="stack">
      <h1>Audit log</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter('key', keyInput.trim());
        }}
      >
        <Field label="Environment">
          <select value={env} onChange={(e) => setFilter('env', e.currentTarget.value)}>
            <option value="">All</option>
            {app.environments.map((e) => (
              <option key={e.key} value={e.key}>
                {e.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Kind">
          <select value={kind} onChange={(e) => setFilter('kind', e.currentTarget.value)}>
            <option value="">All</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        <label class="field">
          <span>Key</span>
          <input
            type="search"
            value={keyInput}
            disabled={!kind}
            placeholder={kind ? `${kind} key` : 'choose a kind first'}
            onInput={(e) => setKeyInput(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="button" disabled={!kind}>
          Filter
        </button>
      </form>
      {error ? (
        <p class="notice" role="alert">
          {error}
        </p>
      ) : null}
      {!entries ? (
        <p class="muted">Loading…</p>
      ) : entries.length === 0 ? (
        <p class="muted">No entries.</p>
      ) : (
        <ol class="audit-list">
          {entries.map((entry) => (
            <li
              key={entry.id}
              class="audit-entry"
              data-audit-resource={`${entry.resource.kind}:${entry.resource.key}`}
            >
              <details>
                <summary>
                  <span class="audit-what">
                    <strong>{entry.actor.name}</strong>{' '}
                    {entry.action.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}{' '}
                    <span>
                      {entry.resource.kind} <code>{entry.resource.key}</code>
                    </span>
                    {entry.envKey ? (
                      <>
                        {' '}
                        <span class="tag">{entry.envKey}</span>
                      </>
                    ) : null}
                  </span>
                  <time dateTime={new Date(entry.at).toISOString()} class="muted">
                    {formatTime(entry.at)}
                  </time>
                  {entry.comment ? <span class="audit-comment">“{entry.comment}”</span> : null}
                </summary>
                <DiffView
                  lines={diffJson(entry.before, entry.after)}
                  label={`Changes to ${entry.resource.kind} ${entry.resource.key}`}
                />
              </details>
            </li>
          ))}
        </ol>
      )}
      {next !== undefined ? (
        <button type="button" class="button" onClick={() => void load(next)}>
          Load older entries
        </button>
      ) : null}
    </section>
  );
}
