import { useId } from 'preact/hooks';
import type { ClauseDraft, Problem } from '../targeting/draft.js';
import { OPERATOR_INFO, operatorInfo, VALUE_HINT } from '../targeting/operators.js';
import { Field } from './Field.js';
import { FieldProblems } from './Problems.js';

interface ClauseEditorProps {
  clause: ClauseDraft;
  path: string;
  problems: Problem[];
  /** Segment keys of the environment, offered for "is in segment". */
  segmentKeys: string[];
  index: number;
  onChange(clause: ClauseDraft): void;
  onRemove(): void;
}

/** One condition: context kind, attribute, operator (every operator the evaluator knows), values. */
export function ClauseEditor({
  clause,
  path,
  problems,
  segmentKeys,
  index,
  onChange,
  onRemove,
}: ClauseEditorProps) {
  const id = useId();
  const info = operatorInfo(clause.op);
  const isSegment = clause.op === 'segmentMatch';
  const invalid = (field: string) => problems.some((p) => p.path === `${path}/${field}`) || undefined;
  return (
    <fieldset class="clause" aria-label={`Condition ${index + 1}`}>
      <div class="clause-fields">
        {!isSegment ? (
          <>
            <label class="field">
              <span>Context kind</span>
              <input
                type="text"
                value={clause.contextKind}
                aria-invalid={invalid('contextKind')}
                onInput={(e) => onChange({ ...clause, contextKind: e.currentTarget.value })}
              />
            </label>
            <label class="field">
              <span>Attribute</span>
              <input
                type="text"
                value={clause.attribute}
                spellcheck={false}
                aria-invalid={invalid('attribute')}
                onInput={(e) => onChange({ ...clause, attribute: e.currentTarget.value })}
              />
            </label>
          </>
        ) : null}
        <Field label="Operator">
          <select
            value={clause.op}
            aria-invalid={invalid('op')}
            onChange={(e) => onChange({ ...clause, op: e.currentTarget.value })}
          >
            {OPERATOR_INFO.map((o) => (
              <option key={o.op} value={o.op}>
                {o.label} ({o.op})
              </option>
            ))}
            {!info ? <option value={clause.op}>{clause.op} (unknown)</option> : null}
          </select>
        </Field>
        <label class="check">
          <input
            type="checkbox"
            checked={clause.negate}
            onChange={(e) => onChange({ ...clause, negate: e.currentTarget.checked })}
          />
          <span>Negate (NOT)</span>
        </label>
        {clause.op === 'in' ? (
          <Field label="Read values">
            <select
              value={clause.inMode}
              onChange={(e) =>
                onChange({ ...clause, inMode: e.currentTarget.value as ClauseDraft['inMode'] })
              }
            >
              <option value="typed">typed (numbers, true/false)</option>
              <option value="text">as text</option>
            </select>
          </Field>
        ) : null}
      </div>
      <label class="field">
        <span>{isSegment ? 'Segments, one key per line' : 'Values, one per line'}</span>
        <textarea
          rows={2}
          value={clause.values}
          spellcheck={false}
          aria-invalid={invalid('values')}
          aria-describedby={`${id}-hint`}
          onInput={(e) => onChange({ ...clause, values: e.currentTarget.value })}
        />
      </label>
      <p class="hint muted" id={`${id}-hint`}>
        {VALUE_HINT[info?.kind ?? 'string']}
        {isSegment && segmentKeys.length > 0 ? ` Segments here: ${segmentKeys.join(', ')}.` : ''}
      </p>
      {['contextKind', 'attribute', 'op', 'values'].map((field) => (
        <FieldProblems key={field} problems={problems} path={`${path}/${field}`} />
      ))}
      <button type="button" class="button small" onClick={onRemove}>
        Remove condition {index + 1}
      </button>
    </fieldset>
  );
}
