import { useState } from 'preact/hooks';
import type { Environment, FlagSummary } from '../api/types.js';
import { Dialog } from './Dialog.js';

interface ToggleDialogProps {
  flag: FlagSummary;
  env: Environment;
  onConfirm(comment: string): Promise<void>;
  onClose(): void;
}

/**
 * The confirmation a critical (production-like) environment asks for before a flag is switched: it
 * names the flag, the environment and the new state, so a kill switch is never flipped by a stray click.
 */
export function ToggleDialog({ flag, env, onConfirm, onClose }: ToggleDialogProps) {
  const on = flag.environments[env.key]?.on ?? false;
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const verb = on ? 'off' : 'on';
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await onConfirm(comment.trim());
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Turn ${verb} “${flag.name}” in ${env.name}?`} onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <p>
          <strong>{env.name}</strong> is a critical environment. SDKs connected to it will{' '}
          {on
            ? 'stop serving the flag’s targeting and serve its off variation'
            : 'start serving the flag’s targeting'}{' '}
          within seconds.
        </p>
        <label class="field">
          <span>Comment for the audit log (optional)</span>
          <input
            type="text"
            value={comment}
            maxLength={4096}
            onInput={(e) => setComment(e.currentTarget.value)}
            placeholder="Why? e.g. incident 1234"
          />
        </label>
        <div class="actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class={`button ${on ? 'danger' : 'primary'}`} data-autofocus disabled={busy}>
            {busy ? 'Working…' : `Turn ${verb} in ${env.name}`}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
