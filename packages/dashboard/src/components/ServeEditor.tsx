import { useId } from 'preact/hooks';
import type { Variation } from '../api/types.js';
import { variationLabel } from '../lib/format.js';
import { evenPercents, type Problem, percentTotal, type ServeDraft } from '../targeting/draft.js';
import { Field } from './Field.js';
import { FieldProblems } from './Problems.js';

interface ServeEditorProps {
  serve: ServeDraft;
  variations: Variation[];
  /** Where its problems are reported, e.g. `/rules/0` or `/fallthrough`. */
  path: string;
  problems: Problem[];
  label: string;
  onChange(serve: ServeDraft): void;
}

/** "Serve": one variation, or a percentage rollout whose percentages must add up to 100. */
export function ServeEditor({ serve, variations, path, problems, label, onChange }: ServeEditorProps) {
  const id = useId();
  const total = percentTotal(serve.percents.slice(0, variations.length));
  const choice = serve.mode === 'rollout' ? 'rollout' : String(serve.variation);
  return (
    <fieldset class="serve">
      <legend>{label}</legend>
      <Field label="Serve">
        <select
          value={choice}
          onChange={(e) => {
            const value = e.currentTarget.value;
            if (value === 'rollout') {
              const percents =
                serve.percents.length === variations.length
                  ? serve.percents
                  : evenPercents(variations.length);
              onChange({ ...serve, mode: 'rollout', percents });
            } else onChange({ ...serve, mode: 'variation', variation: Number(value) });
          }}
        >
          {variations.map((_, i) => (
            <option key={i} value={String(i)}>
              {variationLabel(variations, i)}
            </option>
          ))}
          <option value="rollout">A percentage rollout</option>
        </select>
      </Field>
      <FieldProblems problems={problems} path={`${path}/variation`} />
      {serve.mode === 'rollout' ? (
        <fieldset class="rollout" aria-labelledby={`${id}-rollout`}>
          <span id={`${id}-rollout`} class="sr-only">
            Rollout percentages
          </span>
          {variations.map((_, i) => (
            <div key={i} class="rollout-row">
              <label class="field">
                <span>{variationLabel(variations, i)} %</span>
                <input
                  type="text"
                  inputMode="decimal"
                  class="percent"
                  value={serve.percents[i] ?? '0'}
                  aria-invalid={problems.some((p) => p.path === `${path}/rollout/${i}`) || undefined}
                  onInput={(e) => {
                    const percents = [...serve.percents];
                    percents[i] = e.currentTarget.value;
                    onChange({ ...serve, percents });
                  }}
                />
              </label>
              <FieldProblems problems={problems} path={`${path}/rollout/${i}`} />
            </div>
          ))}
          <p class={`rollout-total ${total === 100 ? 'ok' : 'bad'}`} aria-live="polite">
            Total: {total === undefined ? '—' : `${total}%`} {total === 100 ? '✓' : '(must be 100%)'}
          </p>
          <FieldProblems problems={problems} path={`${path}/rollout`} />
          <details>
            <summary>Bucketing</summary>
            <div class="row">
              <label class="field">
                <span>Context kind (default user)</span>
                <input
                  type="text"
                  value={serve.contextKind}
                  placeholder="user"
                  onInput={(e) => onChange({ ...serve, contextKind: e.currentTarget.value })}
                />
              </label>
              <label class="field">
                <span>Bucket by attribute (default key)</span>
                <input
                  type="text"
                  value={serve.bucketBy}
                  placeholder="key"
                  onInput={(e) => onChange({ ...serve, bucketBy: e.currentTarget.value })}
                />
              </label>
            </div>
          </details>
        </fieldset>
      ) : null}
    </fieldset>
  );
}
