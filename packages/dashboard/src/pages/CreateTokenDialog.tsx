import { useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import type { ApiToken, Role } from '../api/types.js';
import { CopyButton } from '../components/CopyButton.js';
import { Dialog } from '../components/Dialog.js';
import { Field } from '../components/Field.js';
import { FieldProblems, ProblemSummary } from '../components/Problems.js';
import { useApp } from '../state.js';
import type { Problem } from '../targeting/draft.js';

const ROLE_HELP: Record<Role, string> = {
  reader: 'reads everything, changes nothing',
  writer: 'also changes flags and segments',
  admin: 'everything, including projects, environments and tokens',
};

/**
 * Creates a token, then shows its secret: this is the only time it exists outside the caller's hands
 * (the service stores a hash), so the dialog says so and offers a copy button. The secret lives only
 * in this component's state and is gone when the dialog closes.
 */
export function CreateTokenDialog({ onCreated, onClose }: { onCreated(): void; onClose(): void }) {
  const { client, toast } = useApp();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('reader');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<ApiToken & { secret: string }>();

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!name.trim()) {
      setProblems([{ path: '/name', message: 'say what the token is for (its name)' }]);
      return;
    }
    setBusy(true);
    try {
      setCreated(await client.createToken(name.trim(), role));
      setProblems([]);
      toast(`Created the token ${name.trim()}`);
      onCreated();
    } catch (err) {
      setProblems(
        err instanceof ApiError && err.errors.length > 0
          ? err.errors
          : [{ path: '', message: (err as Error).message }],
      );
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <Dialog title={`Token “${created.name}” created`} onClose={onClose}>
        <div class="stack">
          <p class="notice" role="alert">
            <strong>Copy the secret now: you won’t see it again.</strong> The service keeps only a hash of it;
            a lost secret cannot be recovered, only replaced by a new token.
          </p>
          <div class="field">
            <label for="new-token-secret">Secret ({created.role} token)</label>
            <div class="secret-row">
              <input
                id="new-token-secret"
                class="key-value"
                type="text"
                readOnly
                spellcheck={false}
                value={created.secret}
                data-autofocus
                onFocus={(e) => e.currentTarget.select()}
              />
              <CopyButton value={created.secret} label={`secret of ${created.name}`} />
            </div>
          </div>
          <div class="actions">
            <button type="button" class="button primary" onClick={onClose}>
              I have copied it
            </button>
          </div>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title="New API token" onClose={onClose}>
      <form class="stack" onSubmit={submit} noValidate>
        <ProblemSummary
          problems={problems.filter((p) => p.path !== '/name')}
          title="The token was not created"
        />
        <label class="field">
          <span>Name (what it is for)</span>
          <input
            type="text"
            value={name}
            maxLength={256}
            data-autofocus
            aria-invalid={problems.some((p) => p.path === '/name') || undefined}
            aria-describedby="token-name-problems"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <FieldProblems problems={problems} path="/name" id="token-name-problems" />
        <Field label="Role">
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {(['reader', 'writer', 'admin'] as const).map((r) => (
              <option key={r} value={r}>
                {r}: {ROLE_HELP[r]}
              </option>
            ))}
          </select>
        </Field>
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create token'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
