import type { JsonValue } from '@flagstaff/eval';
import { useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { Dialog } from '../components/Dialog.js';
import { Field } from '../components/Field.js';
import { FieldProblems, ProblemSummary } from '../components/Problems.js';
import { KEY_PATTERN, KEY_RULE } from '../lib/format.js';
import { navigate } from '../router.js';
import { projectPath, useApp } from '../state.js';
import type { Problem } from '../targeting/draft.js';

type Kind = 'boolean' | 'string' | 'number' | 'json';

/** Reads the variations typed for a multivariate flag, one per line. */
export function readVariations(kind: Kind, text: string, problems: Problem[]): { value: JsonValue }[] {
  if (kind === 'boolean') return [{ value: true }, { value: false }];
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length < 2)
    problems.push({ path: '/variations', message: 'give at least two variations, one per line' });
  const out: { value: JsonValue }[] = [];
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    let value: JsonValue = line;
    if (kind === 'number') {
      value = Number(line);
      if (!Number.isFinite(value))
        problems.push({ path: '/variations', message: `line ${i + 1}: "${line}" is not a number` });
    } else if (kind === 'json') {
      try {
        value = JSON.parse(line) as JsonValue;
      } catch {
        problems.push({ path: '/variations', message: `line ${i + 1} is not valid JSON` });
      }
    }
    const id = JSON.stringify(value);
    if (seen.has(id))
      problems.push({ path: '/variations', message: `line ${i + 1} repeats an earlier variation` });
    seen.add(id);
    out.push({ value });
  });
  return out;
}

/** Creates a flag: off in every environment, as the service creates them. */
export function CreateFlagDialog({ onClose }: { onClose(): void }) {
  const app = useApp();
  const [key, setKey] = useState('');
  const [keyEdited, setKeyEdited] = useState(false);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [tags, setTags] = useState('');
  const [kind, setKind] = useState<Kind>('boolean');
  const [variations, setVariations] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);

  const onName = (value: string) => {
    setName(value);
    // A key follows the name until it is edited by hand.
    if (!keyEdited)
      setKey(
        value
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9._-]+/g, '-')
          .replace(/^[-._]+|-+$/g, ''),
      );
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const found: Problem[] = [];
    if (!key) found.push({ path: '/key', message: 'give the flag a key (what code passes to variation())' });
    else if (!KEY_PATTERN.test(key)) found.push({ path: '/key', message: `the key ${KEY_RULE}` });
    if (!name.trim()) found.push({ path: '/name', message: 'give the flag a name' });
    const tagList = tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (tagList.some((t) => t.length > 64))
      found.push({ path: '/tags', message: 'tags are at most 64 characters' });
    const values = readVariations(kind, variations, found);
    setProblems(found);
    if (found.length > 0) return;
    setBusy(true);
    try {
      const body: Record<string, unknown> = { key, name: name.trim(), tags: [...new Set(tagList)] };
      if (description.trim()) body.description = description.trim();
      if (kind !== 'boolean') body.variations = values;
      await app.client.createFlag(app.project.key, body);
      app.toast(`Created ${key}`);
      await app.reloadFlags();
      onClose();
      navigate(projectPath(app.project.key, `/flags/${encodeURIComponent(key)}`));
    } catch (err) {
      if (err instanceof ApiError && err.errors.length > 0) setProblems(err.errors);
      else setProblems([{ path: '', message: (err as Error).message }]);
    } finally {
      setBusy(false);
    }
  };

  const described = (path: string) =>
    problems.some((p) => p.path === path) ? `create${path.replace('/', '-')}` : undefined;
  return (
    <Dialog title="New flag" onClose={onClose}>
      <form class="stack" onSubmit={submit} noValidate>
        <ProblemSummary
          problems={problems.filter((p) => !['/key', '/name', '/tags', '/variations'].includes(p.path))}
          title="The flag was not created"
        />
        <label class="field">
          <span>Name</span>
          <input
            type="text"
            value={name}
            data-autofocus
            aria-invalid={!!described('/name')}
            aria-describedby={described('/name')}
            onInput={(e) => onName(e.currentTarget.value)}
          />
        </label>
        <FieldProblems problems={problems} path="/name" id="create-name" />
        <label class="field">
          <span>Key</span>
          <input
            type="text"
            value={key}
            spellcheck={false}
            aria-invalid={!!described('/key')}
            aria-describedby={described('/key')}
            onInput={(e) => {
              setKey(e.currentTarget.value);
              setKeyEdited(true);
            }}
          />
        </label>
        <FieldProblems problems={problems} path="/key" id="create-key" />
        <label class="field">
          <span>Description (optional)</span>
          <input type="text" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Tags (comma-separated, optional)</span>
          <input
            type="text"
            value={tags}
            aria-describedby={described('/tags')}
            onInput={(e) => setTags(e.currentTarget.value)}
          />
        </label>
        <FieldProblems problems={problems} path="/tags" id="create-tags" />
        <Field label="Type">
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as Kind)}>
            <option value="boolean">Boolean (true / false)</option>
            <option value="string">String</option>
            <option value="number">Number</option>
            <option value="json">JSON</option>
          </select>
        </Field>
        {kind !== 'boolean' ? (
          <>
            <label class="field">
              <span>Variations, one per line{kind === 'json' ? ' (JSON)' : ''}</span>
              <textarea
                rows={4}
                value={variations}
                spellcheck={false}
                aria-describedby={described('/variations')}
                onInput={(e) => setVariations(e.currentTarget.value)}
              />
            </label>
            <FieldProblems problems={problems} path="/variations" id="create-variations" />
          </>
        ) : null}
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create flag'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
