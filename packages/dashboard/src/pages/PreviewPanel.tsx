import type { Flag as LdFlag, Segment as LdSegment } from '@flagstaff/eval';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Environment, Flag, TargetingDoc } from '../api/types.js';
import { shortValue, variationLabel } from '../lib/format.js';
import { useApp } from '../state.js';
import { composeFlag } from '../targeting/draft.js';
import { describeReason, evaluateFor, parseContext } from '../targeting/preview.js';

interface PreviewPanelProps {
  flag: Flag;
  env: Environment;
  /** The targeting being edited, when it is valid; otherwise the saved one is evaluated. */
  draft: TargetingDoc | undefined;
  dirty: boolean;
}

const DEFAULT_CONTEXT = '{\n  "kind": "user",\n  "key": "user-1",\n  "email": "ann@example.com"\n}';

/**
 * Evaluates the flag in the browser for a context typed as JSON, with the unsaved edits when there
 * are any: the value and the reason, as an SDK would compute them with the same data. Segments and
 * prerequisite flags of the environment are loaded once when the panel opens.
 */
export function PreviewPanel({ flag, env, draft, dirty }: PreviewPanelProps) {
  const app = useApp();
  const [text, setText] = useState(
    () => sessionStorage.getItem('flagstaff.previewContext') ?? DEFAULT_CONTEXT,
  );
  const [segments, setSegments] = useState<Map<string, LdSegment>>();
  const [flags, setFlags] = useState<Map<string, LdFlag>>(new Map());
  const [loadError, setLoadError] = useState<string>();

  const saved = flag.environments[env.key];
  const doc = dirty && draft ? draft : saved;

  useEffect(() => {
    let cancelled = false;
    app.client.segments(app.project.key, env.key).then(
      (list) => {
        if (cancelled) return;
        const map = new Map<string, LdSegment>();
        for (const s of list) {
          map.set(s.key, {
            key: s.key,
            version: s.version,
            included: s.included,
            excluded: s.excluded,
            includedContexts: s.includedContexts,
            excludedContexts: s.excludedContexts,
            rules: s.rules,
            salt: s.salt,
          });
        }
        setSegments(map);
      },
      (err: unknown) => !cancelled && setLoadError((err as Error).message),
    );
    return () => {
      cancelled = true;
    };
  }, [app.client, app.project.key, env.key]);

  // Prerequisites, and theirs, as the service composes them for this environment.
  const prereqKeys = useMemo(() => (doc?.prerequisites ?? []).map((p) => p.key).join(','), [doc]);
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const found = new Map<string, LdFlag>();
      const queue = prereqKeys ? prereqKeys.split(',') : [];
      while (queue.length > 0 && found.size < 50) {
        const key = queue.shift()!;
        if (found.has(key) || key === flag.key) continue;
        const other = await app.client.flag(app.project.key, key);
        const t = other.environments[env.key];
        if (!t) continue;
        found.set(key, composeFlag(key, other.variations, t));
        queue.push(...t.prerequisites.map((p) => p.key));
      }
      if (!cancelled) setFlags(found);
    })().catch((err: unknown) => !cancelled && setLoadError((err as Error).message));
    return () => {
      cancelled = true;
    };
  }, [app.client, app.project.key, env.key, prereqKeys, flag.key]);

  const parsed = parseContext(text);
  const result =
    parsed.ok && doc && segments
      ? evaluateFor(composeFlag(flag.key, flag.variations, doc), parsed.context, flags, segments)
      : undefined;
  const ruleLabel = (index: number) => {
    const rule = doc?.rules[index];
    return `rule ${index + 1}${rule?.description ? ` (“${rule.description}”)` : ''}`;
  };

  return (
    <section class="card stack preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <p class="muted">
        Evaluates {dirty && draft ? 'your unsaved changes' : 'the saved targeting'} in {env.name} in this
        browser, with the same engine as the SDKs.
      </p>
      <label class="field">
        <span>Context (JSON)</span>
        <textarea
          rows={6}
          spellcheck={false}
          class="code"
          value={text}
          aria-invalid={!parsed.ok || undefined}
          aria-describedby="preview-context-problem"
          onInput={(e) => {
            setText(e.currentTarget.value);
            sessionStorage.setItem('flagstaff.previewContext', e.currentTarget.value);
          }}
        />
      </label>
      {!parsed.ok ? (
        <p class="field-problems" id="preview-context-problem">
          {parsed.message}
        </p>
      ) : null}
      {dirty && !draft ? (
        <p class="notice">Your changes have problems; the saved targeting is evaluated.</p>
      ) : null}
      {loadError ? <p class="field-problems">Could not load segments or prerequisites: {loadError}</p> : null}
      {result ? (
        <dl class="preview-result" aria-live="polite" data-testid="preview-result">
          <dt>Value</dt>
          <dd>
            <code data-testid="preview-value">{shortValue(result.value, 200)}</code>
          </dd>
          <dt>Variation</dt>
          <dd>
            {result.variationIndex === null
              ? 'none (the SDK’s default value)'
              : variationLabel(flag.variations, result.variationIndex)}
          </dd>
          <dt>Reason</dt>
          <dd>
            <code data-testid="preview-reason">{result.reason.kind}</code> {describeReason(result, ruleLabel)}
          </dd>
        </dl>
      ) : null}
    </section>
  );
}
