import { useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import type { Environment } from '../api/types.js';
import { CopyButton } from '../components/CopyButton.js';
import { Dialog } from '../components/Dialog.js';
import { Field } from '../components/Field.js';
import { formatTime, maskSecret } from '../lib/format.js';
import { adminOnlyReason } from '../lib/permissions.js';
import { useApp } from '../state.js';

type RotatableKind = 'sdkKey' | 'mobileKey';

const KEY_NAMES: Record<'sdkKey' | 'mobileKey' | 'clientSideId', string> = {
  sdkKey: 'SDK key',
  mobileKey: 'mobile key',
  clientSideId: 'client-side ID',
};

/** Environments with their keys: copy, reveal, rotate (with a grace period for the old key). */
export function EnvironmentsPage() {
  const app = useApp();
  const [rotating, setRotating] = useState<{ env: Environment; kind: RotatableKind }>();
  return (
    <section class="stack">
      <h1>Environments and keys</h1>
      <p class="muted">
        The SDK key is a secret for server-side SDKs; the mobile key is for mobile apps; the client-side ID is
        public and identifies the environment to browser SDKs.
      </p>
      {app.can.admin ? null : (
        // The service lets only admin tokens rotate keys; the buttons are left out rather than refused.
        <p class="muted" data-testid="rotate-admin-only">
          {adminOnlyReason(app.identity, 'Rotating keys')}
        </p>
      )}
      <div class="env-grid">
        {app.environments.map((env) => (
          <article class="card stack" key={env.key} aria-labelledby={`env-${env.key}`}>
            <div class="row">
              <span
                class="env-dot"
                aria-hidden="true"
                style={env.color ? { background: `#${env.color}` } : undefined}
              />
              <h2 id={`env-${env.key}`}>{env.name}</h2>
              <code>{env.key}</code>
              {env.critical ? <span class="badge critical">critical</span> : null}
            </div>
            {(['sdkKey', 'mobileKey', 'clientSideId'] as const).map((kind) => (
              <KeyRow
                key={kind}
                env={env}
                kind={kind}
                onRotate={
                  kind === 'clientSideId' || !app.can.admin ? undefined : () => setRotating({ env, kind })
                }
              />
            ))}
          </article>
        ))}
      </div>
      {rotating ? (
        <RotateDialog env={rotating.env} kind={rotating.kind} onClose={() => setRotating(undefined)} />
      ) : null}
    </section>
  );
}

function KeyRow({
  env,
  kind,
  onRotate,
}: {
  env: Environment;
  kind: keyof typeof KEY_NAMES;
  onRotate?: () => void;
}) {
  const [revealed, setRevealed] = useState(kind === 'clientSideId');
  const value = env[kind];
  const retired = kind === 'clientSideId' ? undefined : env.retiredKeys[kind];
  const name = KEY_NAMES[kind];
  return (
    <div class="key-row">
      <div class="key-label">{name[0]!.toUpperCase() + name.slice(1)}</div>
      <code class="key-value" data-key-kind={kind}>
        {revealed ? value : maskSecret(value)}
      </code>
      <div class="key-buttons">
        <CopyButton value={value} label={`${name} for ${env.name}`} />
        {kind !== 'clientSideId' ? (
          <button
            type="button"
            class="button small"
            aria-pressed={revealed}
            onClick={() => setRevealed(!revealed)}
            aria-label={`${revealed ? 'Hide' : 'Show'} the ${name} for ${env.name}`}
          >
            {revealed ? 'Hide' : 'Show'}
          </button>
        ) : null}
        {onRotate ? (
          <button
            type="button"
            class="button small danger"
            onClick={onRotate}
            aria-label={`Rotate the ${name} for ${env.name}`}
          >
            Rotate
          </button>
        ) : null}
      </div>
      {retired ? (
        <p class="muted key-retired">
          Previous key <code>{maskSecret(retired.key)}</code> keeps working until{' '}
          {formatTime(retired.expiresAt)}.
        </p>
      ) : null}
    </div>
  );
}

const GRACE: [string, number][] = [
  ['Stop the old key now', 0],
  ['Keep the old key for 1 hour', 3600],
  ['Keep the old key for 24 hours', 86_400],
  ['Keep the old key for 7 days', 7 * 86_400],
];

function RotateDialog({ env, kind, onClose }: { env: Environment; kind: RotatableKind; onClose(): void }) {
  const app = useApp();
  const [grace, setGrace] = useState(3600);
  const [comment, setComment] = useState('');
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const name = KEY_NAMES[kind];
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await app.client.rotateKey(app.project.key, env.key, kind, grace, comment.trim() || undefined);
      await app.reloadEnvironments();
      app.toast(`Rotated the ${name} for ${env.name}`);
      onClose();
    } catch (err) {
      setProblem(
        err instanceof ApiError && err.status === 403
          ? `Rotating keys needs an admin token. ${err.message}`
          : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Rotate the ${name} for ${env.name}?`} onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        <p>
          A new {name} is generated. Every SDK using the current one must be given the new key
          {grace === 0
            ? ' at once: the old key stops working immediately.'
            : ' before the grace period ends.'}
        </p>
        <Field label="Old key">
          <select value={String(grace)} onChange={(e) => setGrace(Number(e.currentTarget.value))}>
            {GRACE.map(([label, seconds]) => (
              <option key={seconds} value={String(seconds)}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <label class="field">
          <span>Comment for the audit log (optional)</span>
          <input type="text" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
        </label>
        {problem ? (
          <p class="field-problems" role="alert">
            {problem}
          </p>
        ) : null}
        <div class="actions">
          <button type="button" class="button" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button type="submit" class="button danger" disabled={busy}>
            Rotate the {name}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
