import type { Environment, Flag, FlagSummary } from '../api/types.js';
import { ClauseEditor } from '../components/ClauseEditor.js';
import { Field } from '../components/Field.js';
import { FieldProblems } from '../components/Problems.js';
import { ServeEditor } from '../components/ServeEditor.js';
import { Switch } from '../components/Switch.js';
import { variationLabel } from '../lib/format.js';
import { newClause, newRule, type Problem, type RuleDraft, type TargetingDraft } from '../targeting/draft.js';

interface TargetingEditorProps {
  flag: Flag;
  env: Environment;
  draft: TargetingDraft;
  problems: Problem[];
  /** Other flags of the project, for prerequisites. */
  otherFlags: FlagSummary[];
  segmentKeys: string[];
  onChange(draft: TargetingDraft): void;
}

/**
 * A flag's targeting in one environment, in the order SDKs apply it: on/off, prerequisites,
 * individual targets, rules top to bottom, then the default rule; the off variation when off.
 */
export function TargetingEditor({
  flag,
  env,
  draft,
  problems,
  otherFlags,
  segmentKeys,
  onChange,
}: TargetingEditorProps) {
  const variations = flag.variations;
  const set = (patch: Partial<TargetingDraft>) => onChange({ ...draft, ...patch });
  const setRule = (index: number, rule: RuleDraft) =>
    set({ rules: draft.rules.map((r, i) => (i === index ? rule : r)) });
  const moveRule = (index: number, by: number) => {
    const rules = [...draft.rules];
    const [rule] = rules.splice(index, 1);
    rules.splice(index + by, 0, rule!);
    set({ rules });
  };
  const variationOptions = variations.map((_, i) => (
    <option key={i} value={String(i)}>
      {variationLabel(variations, i)}
    </option>
  ));

  return (
    <div class="stack targeting">
      <div class="row on-row">
        <Switch
          on={draft.on}
          label={`Targeting of ${flag.key} in ${env.name}`}
          onToggle={() => set({ on: !draft.on })}
        />
        <span>
          Targeting is <strong>{draft.on ? 'on' : 'off'}</strong>
          {draft.on ? '' : ': every context gets the off variation'}
        </span>
      </div>

      <fieldset class="section">
        <legend>Prerequisites</legend>
        <p class="muted">
          Other flags that must serve a given variation first; if one does not, this flag serves its off
          variation.
        </p>
        {draft.prerequisites.map((p, i) => {
          const other = otherFlags.find((f) => f.key === p.key);
          return (
            <div class="row" key={i}>
              <Field label="Flag">
                <select
                  value={p.key}
                  onChange={(e) =>
                    set({
                      prerequisites: draft.prerequisites.map((q, j) =>
                        j === i ? { key: e.currentTarget.value, variation: 0 } : q,
                      ),
                    })
                  }
                >
                  <option value="">Choose a flag</option>
                  {otherFlags.map((f) => (
                    <option key={f.key} value={f.key}>
                      {f.name} ({f.key})
                    </option>
                  ))}
                </select>
              </Field>
              <Field label="Must serve">
                <select
                  value={String(p.variation)}
                  onChange={(e) =>
                    set({
                      prerequisites: draft.prerequisites.map((q, j) =>
                        j === i ? { ...q, variation: Number(e.currentTarget.value) } : q,
                      ),
                    })
                  }
                >
                  {(other?.variations ?? []).map((_, k) => (
                    <option key={k} value={String(k)}>
                      {variationLabel(other?.variations ?? [], k)}
                    </option>
                  ))}
                </select>
              </Field>
              <button
                type="button"
                class="button small"
                onClick={() => set({ prerequisites: draft.prerequisites.filter((_, j) => j !== i) })}
              >
                Remove prerequisite {i + 1}
              </button>
              <FieldProblems problems={problems} path={`/prerequisites/${i}/key`} />
            </div>
          );
        })}
        <button
          type="button"
          class="button small"
          onClick={() => set({ prerequisites: [...draft.prerequisites, { key: '', variation: 0 }] })}
        >
          Add prerequisite
        </button>
      </fieldset>

      <fieldset class="section">
        <legend>Individual targets</legend>
        <p class="muted">Contexts listed by key get a variation before any rule is looked at.</p>
        {draft.targets.map((t, i) => (
          <div class="row target" key={i}>
            <label class="field">
              <span>Context kind</span>
              <input
                type="text"
                value={t.contextKind}
                onInput={(e) =>
                  set({
                    targets: draft.targets.map((u, j) =>
                      j === i ? { ...u, contextKind: e.currentTarget.value } : u,
                    ),
                  })
                }
              />
            </label>
            <Field label="Serve">
              <select
                value={String(t.variation)}
                onChange={(e) =>
                  set({
                    targets: draft.targets.map((u, j) =>
                      j === i ? { ...u, variation: Number(e.currentTarget.value) } : u,
                    ),
                  })
                }
              >
                {variationOptions}
              </select>
            </Field>
            <label class="field grow">
              <span>Context keys, one per line</span>
              <textarea
                rows={2}
                value={t.values}
                spellcheck={false}
                onInput={(e) =>
                  set({
                    targets: draft.targets.map((u, j) =>
                      j === i ? { ...u, values: e.currentTarget.value } : u,
                    ),
                  })
                }
              />
            </label>
            <button
              type="button"
              class="button small"
              onClick={() => set({ targets: draft.targets.filter((_, j) => j !== i) })}
            >
              Remove target {i + 1}
            </button>
            {['contextKind', 'variation', 'values'].map((f) => (
              <FieldProblems key={f} problems={problems} path={`/targets/${i}/${f}`} />
            ))}
          </div>
        ))}
        <button
          type="button"
          class="button small"
          onClick={() =>
            set({ targets: [...draft.targets, { contextKind: 'user', variation: 0, values: '' }] })
          }
        >
          Add individual targets
        </button>
      </fieldset>

      <fieldset class="section">
        <legend>Rules</legend>
        <p class="muted">The first rule whose conditions all match decides what is served.</p>
        {draft.rules.map((rule, i) => (
          <fieldset class="rule card" key={rule.id ?? `new-${i}`} aria-label={`Rule ${i + 1}`}>
            <div class="rule-head">
              <h3>Rule {i + 1}</h3>
              <label class="field grow">
                <span>Description (optional)</span>
                <input
                  type="text"
                  value={rule.description}
                  onInput={(e) => setRule(i, { ...rule, description: e.currentTarget.value })}
                />
              </label>
              <div class="rule-buttons">
                <button
                  type="button"
                  class="button small"
                  disabled={i === 0}
                  onClick={() => moveRule(i, -1)}
                  aria-label={`Move rule ${i + 1} up`}
                >
                  ↑
                </button>
                <button
                  type="button"
                  class="button small"
                  disabled={i === draft.rules.length - 1}
                  onClick={() => moveRule(i, 1)}
                  aria-label={`Move rule ${i + 1} down`}
                >
                  ↓
                </button>
                <button
                  type="button"
                  class="button small danger"
                  onClick={() => set({ rules: draft.rules.filter((_, j) => j !== i) })}
                >
                  Delete rule {i + 1}
                </button>
              </div>
            </div>
            {rule.clauses.map((clause, j) => (
              <ClauseEditor
                key={j}
                index={j}
                clause={clause}
                path={`/rules/${i}/clauses/${j}`}
                problems={problems}
                segmentKeys={segmentKeys}
                onChange={(c) =>
                  setRule(i, { ...rule, clauses: rule.clauses.map((x, k) => (k === j ? c : x)) })
                }
                onRemove={() => setRule(i, { ...rule, clauses: rule.clauses.filter((_, k) => k !== j) })}
              />
            ))}
            <FieldProblems problems={problems} path={`/rules/${i}/clauses`} />
            <button
              type="button"
              class="button small"
              onClick={() => setRule(i, { ...rule, clauses: [...rule.clauses, newClause()] })}
            >
              Add condition to rule {i + 1}
            </button>
            <ServeEditor
              serve={rule.serve}
              variations={variations}
              path={`/rules/${i}`}
              problems={problems}
              label={`Rule ${i + 1} serves`}
              onChange={(serve) => setRule(i, { ...rule, serve })}
            />
          </fieldset>
        ))}
        <button
          type="button"
          class="button"
          onClick={() => set({ rules: [...draft.rules, newRule(variations.length)] })}
        >
          Add rule
        </button>
      </fieldset>

      <ServeEditor
        serve={draft.fallthrough}
        variations={variations}
        path="/fallthrough"
        problems={problems}
        label="Default rule (when no target or rule matches)"
        onChange={(fallthrough) => set({ fallthrough })}
      />

      <fieldset class="section">
        <legend>When targeting is off</legend>
        <Field label="Off variation">
          <select
            value={draft.offVariation === null ? '' : String(draft.offVariation)}
            onChange={(e) =>
              set({ offVariation: e.currentTarget.value === '' ? null : Number(e.currentTarget.value) })
            }
          >
            {variationOptions}
            <option value="">None: SDKs serve their default value</option>
          </select>
        </Field>
        <FieldProblems problems={problems} path="/offVariation" />
      </fieldset>
    </div>
  );
}
