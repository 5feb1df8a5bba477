import { useState } from 'preact/hooks';
import type { ApiToken } from '../api/types.js';
import { Dialog } from '../components/Dialog.js';
import { useApp } from '../state.js';

/** Confirms revoking a token: whatever uses it is refused from then on, and that cannot be undone. */
export function RevokeTokenDialog({
  token,
  isCurrent,
  onRevoked,
  onClose,
}: {
  token: ApiToken;
  /** Revoking the token this dashboard is signed in with signs it out. */
  isCurrent: boolean;
  onRevoked(): void;
  onClose(): void;
}) {
  const { client, toast } = useApp();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();
  const revoke = async () => {
    setBusy(true);
    try {
      await client.revokeToken(token.id);
      toast(`Revoked the token ${token.name}`);
      onRevoked();
    } catch (err) {
      setProblem((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Revoke the token “${token.name}”?`} onClose={onClose}>
      <div class="stack">
        <p>
          Anything that uses the {token.role} token <strong>{token.name}</strong> (starting{' '}
          <code>{token.hint}…</code>) will be refused with <code>401</code> from now on. This cannot be
          undone; a replacement is a new token.
        </p>
        {isCurrent ? (
          <p class="notice">This is the token you are signed in with: revoking it signs you out.</p>
        ) : null}
        {problem ? (
          <p class="field-problems" role="alert">
            {problem}
          </p>
        ) : null}
        <div class="actions">
          <button type="button" class="button" data-autofocus onClick={onClose}>
            Cancel
          </button>
          <button type="button" class="button danger" disabled={busy} onClick={() => void revoke()}>
            {busy ? 'Revoking…' : `Revoke ${token.name}`}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
