import { useMemo, useState } from 'preact/hooks';
import { Field } from '../components/Field.js';
import { Switch } from '../components/Switch.js';
import { Link, navigate, useLocation } from '../router.js';
import { projectPath, useApp } from '../state.js';
import { ArchivedFlags } from './ArchivedFlags.js';
import { CreateFlagDialog } from './CreateFlagDialog.js';

/** Flags with search, a tag filter and a switch per environment. */
export function FlagListPage() {
  const app = useApp();
  const { query } = useLocation();
  const [creating, setCreating] = useState(false);
  const search = query.get('q') ?? '';
  const tag = query.get('tag') ?? '';
  const archived = query.get('archived') === '1';
  const setQuery = (name: string, value: string) => {
    const next = new URLSearchParams(window.location.search);
    if (value) next.set(name, value);
    else next.delete(name);
    const qs = next.toString();
    navigate(`${window.location.pathname}${qs ? `?${qs}` : ''}`, { replace: true });
  };

  const tags = useMemo(() => [...new Set(app.flags.flatMap((f) => f.tags))].sort(), [app.flags]);
  const shown = useMemo(() => {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    return app.flags.filter(
      (f) =>
        (!tag || f.tags.includes(tag)) &&
        words.every(
          (w) =>
            f.key.toLowerCase().includes(w) ||
            f.name.toLowerCase().includes(w) ||
            f.description.toLowerCase().includes(w),
        ),
    );
  }, [app.flags, search, tag]);

  return (
    <section class="stack">
      <div class="page-head">
        <h1>{archived ? 'Archived flags' : 'Flags'}</h1>
        <div class="head-actions">
          {/* A link, so the archived list has its own URL and the back button returns from it. */}
          <Link class="button" href={projectPath(app.project.key, archived ? '/flags' : '/flags?archived=1')}>
            {archived ? 'Show live flags' : 'Show archived flags'}
          </Link>
          {archived || !app.can.write ? null : (
            <button type="button" class="button primary" onClick={() => setCreating(true)}>
              New flag
            </button>
          )}
        </div>
      </div>
      {archived ? (
        <ArchivedFlags />
      ) : (
        <>
          <div class="filters">
            <label class="field grow">
              <span>Search</span>
              <input
                type="search"
                value={search}
                placeholder="Key, name or description"
                onInput={(e) => setQuery('q', e.currentTarget.value)}
              />
            </label>
            <Field label="Tag">
              <select value={tag} onChange={(e) => setQuery('tag', e.currentTarget.value)}>
                <option value="">All tags</option>
                {tags.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          {!app.flagsLoaded ? (
            <p class="muted" aria-busy="true">
              Loading flags…
            </p>
          ) : shown.length === 0 ? (
            <p class="muted">
              {app.flags.length === 0
                ? app.can.write
                  ? 'No flags yet: create the first one.'
                  : 'No flags yet.'
                : 'No flag matches these filters.'}
            </p>
          ) : (
            <table class="flag-table">
              <caption class="sr-only">
                Flags of {app.project.name}, {shown.length} shown
              </caption>
              <thead>
                <tr>
                  <th scope="col">Flag</th>
                  {app.environments.map((env) => (
                    <th scope="col" key={env.key}>
                      {env.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.map((flag) => (
                  <tr key={flag.key} data-flag={flag.key}>
                    <th scope="row">
                      <Link
                        href={projectPath(app.project.key, `/flags/${encodeURIComponent(flag.key)}`)}
                        class="flag-name"
                      >
                        {flag.name}
                      </Link>
                      <div class="flag-meta">
                        <code>{flag.key}</code>
                        {flag.tags.map((t) => (
                          <span class="tag" key={t}>
                            {t}
                          </span>
                        ))}
                      </div>
                    </th>
                    {app.environments.map((env) => {
                      const state = flag.environments[env.key];
                      return (
                        <td key={env.key} data-label={env.name}>
                          {state ? (
                            <Switch
                              on={state.on}
                              label={`${flag.key} in ${env.name}`}
                              readOnly={app.can.readOnlyReason}
                              onToggle={() => app.requestToggle(flag, env)}
                            />
                          ) : (
                            <span class="muted">—</span>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      {creating ? <CreateFlagDialog onClose={() => setCreating(false)} /> : null}
    </section>
  );
}
