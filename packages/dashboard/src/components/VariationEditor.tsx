import { useId } from 'preact/hooks';
import type { ValueKind, VariationDraft } from '../targeting/definitionDraft.js';
import type { Problem } from '../targeting/draft.js';
import { FieldProblems } from './Problems.js';

interface VariationEditorProps {
  index: number;
  kind: ValueKind;
  variation: VariationDraft;
  problems: readonly Problem[];
  /** Why the last attempt to remove it was refused, shown at the variation. */
  refusal?: string;
  canRemove: boolean;
  onChange(patch: Partial<VariationDraft>): void;
  onRemove(): void;
}

/** One variation: a value input that fits its kind, a name and a description. */
export function VariationEditor({
  index,
  kind,
  variation,
  problems,
  refusal,
  canRemove,
  onChange,
  onRemove,
}: VariationEditorProps) {
  const id = useId();
  const path = `/variations/${index}`;
  const valueProblem = problems.some((p) => p.path === `${path}/value`);
  const valueProps = {
    id: `${id}-value`,
    'aria-invalid': valueProblem || undefined,
    'aria-describedby': valueProblem ? `${id}-value-problems` : undefined,
  };
  const label = `Variation ${index + 1}`;
  return (
    <fieldset class="variation card" aria-label={label} data-variation={index}>
      <div class="rule-head">
        <h3>{label}</h3>
        {canRemove ? (
          <button
            type="button"
            class="button small danger"
            aria-describedby={refusal ? `${id}-refusal` : undefined}
            onClick={onRemove}
          >
            Remove variation {index + 1}
          </button>
        ) : null}
      </div>
      {refusal ? (
        <p class="field-problems" id={`${id}-refusal`} role="alert">
          {refusal}
        </p>
      ) : null}
      <div class="variation-fields">
        <div class="field">
          <label for={valueProps.id}>Value{kind === 'json' ? ' (JSON)' : ''}</label>
          {kind === 'boolean' ? (
            <select
              {...valueProps}
              value={variation.value}
              onChange={(e) => onChange({ value: e.currentTarget.value })}
            >
              <option value="true">true</option>
              <option value="false">false</option>
            </select>
          ) : kind === 'json' ? (
            <textarea
              {...valueProps}
              rows={Math.min(8, Math.max(2, variation.value.split('\n').length))}
              spellcheck={false}
              value={variation.value}
              onInput={(e) => onChange({ value: e.currentTarget.value })}
            />
          ) : (
            <input
              {...valueProps}
              type="text"
              inputMode={kind === 'number' ? 'decimal' : undefined}
              spellcheck={false}
              value={variation.value}
              onInput={(e) => onChange({ value: e.currentTarget.value })}
            />
          )}
          <FieldProblems problems={problems} path={`${path}/value`} id={`${id}-value-problems`} />
        </div>
        <label class="field">
          <span>Name (optional)</span>
          <input
            type="text"
            value={variation.name}
            onInput={(e) => onChange({ name: e.currentTarget.value })}
          />
        </label>
        <FieldProblems problems={problems} path={`${path}/name`} />
        <label class="field">
          <span>Description (optional)</span>
          <input
            type="text"
            value={variation.description}
            onInput={(e) => onChange({ description: e.currentTarget.value })}
          />
        </label>
        <FieldProblems problems={problems} path={`${path}/description`} />
      </div>
    </fieldset>
  );
}
