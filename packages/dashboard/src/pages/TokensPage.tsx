import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import type { ApiToken } from '../api/types.js';
import { formatTime } from '../lib/format.js';
import { useApp } from '../state.js';
import { CreateTokenDialog } from './CreateTokenDialog.js';
import { RevokeTokenDialog } from './RevokeTokenDialog.js';

/**
 * API tokens (an admin matter: the list tells who can change what). Secrets never appear here: the
 * service keeps only their hash, so a new token's secret is shown once, when it is created.
 */
export function TokensPage() {
  const app = useApp();
  const { client, identity } = app;
  const [tokens, setTokens] = useState<ApiToken[]>();
  const [error, setError] = useState<string>();
  const [forbidden, setForbidden] = useState(false);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiToken>();
  // An unknown identity still tries: the service answers 403 if the token is not an admin's.
  const admin = app.can.admin;

  const load = useCallback(async () => {
    try {
      setTokens((await client.tokens()).items);
      setError(undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) setForbidden(true);
      else setError((err as Error).message);
    }
  }, [client]);
  useEffect(() => {
    if (admin) void load();
  }, [admin, load]);

  if (!admin || forbidden) {
    return (
      <section class="stack">
        <h1>API tokens</h1>
        <p class="notice" role="alert">
          Only an admin token can manage API tokens.
          {identity
            ? ` You are signed in with “${identity.tokenName}”, a ${identity.role} token.`
            : ' The token you are signed in with is not one.'}{' '}
          Sign in with an admin token to create or revoke tokens.
        </p>
      </section>
    );
  }

  const active = tokens?.filter((t) => !t.revoked) ?? [];
  const revoked = tokens?.filter((t) => t.revoked) ?? [];
  // The service does not record use yet; the column appears once it does.
  const showLastUsed = tokens?.some((t) => t.lastUsedAt !== undefined) ?? false;
  const table = (list: ApiToken[], caption: string, actions: boolean) => (
    <table class="simple token-table">
      <caption class="sr-only">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Role</th>
          <th scope="col">Starts with</th>
          <th scope="col">Created</th>
          {showLastUsed ? <th scope="col">Last used</th> : null}
          {actions ? (
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {list.map((t) => (
          <tr key={t.id} data-token={t.id} data-token-state={t.revoked ? 'revoked' : 'active'}>
            <th scope="row">
              {t.name}
              {t.id === identity?.tokenId ? <span class="badge">this session</span> : null}
            </th>
            <td data-label="Role">{t.role}</td>
            <td data-label="Starts with">
              <code>{t.hint}…</code>
            </td>
            <td data-label="Created">{formatTime(t.createdAt)}</td>
            {showLastUsed ? (
              <td data-label="Last used">{t.lastUsedAt ? formatTime(t.lastUsedAt) : 'never'}</td>
            ) : null}
            {actions ? (
              <td>
                <button type="button" class="button small danger" onClick={() => setRevoking(t)}>
                  Revoke {t.name}
                </button>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );

  return (
    <section class="stack">
      <div class="page-head">
        <h1>API tokens</h1>
        <button type="button" class="button primary" onClick={() => setCreating(true)}>
          New token
        </button>
      </div>
      <p class="muted">
        Tokens sign in to this dashboard and call the admin API (<code>Authorization: Bearer …</code>). Only
        the first characters are kept in view; the secret itself is shown once, when the token is created.
      </p>
      {error ? (
        <p class="notice" role="alert">
          {error}
        </p>
      ) : null}
      {!tokens ? (
        <p class="muted" aria-busy="true">
          Loading tokens…
        </p>
      ) : (
        <>
          {active.length === 0 ? (
            <p class="muted">No active tokens.</p>
          ) : (
            table(active, 'Active tokens', true)
          )}
          {revoked.length > 0 ? (
            <details class="card">
              <summary>Revoked tokens ({revoked.length})</summary>
              {table(revoked, 'Revoked tokens', false)}
            </details>
          ) : null}
        </>
      )}
      {creating ? (
        <CreateTokenDialog
          onCreated={() => void load()}
          onClose={() => {
            setCreating(false);
            void load();
          }}
        />
      ) : null}
      {revoking ? (
        <RevokeTokenDialog
          token={revoking}
          isCurrent={revoking.id === identity?.tokenId}
          onClose={() => setRevoking(undefined)}
          onRevoked={() => {
            setRevoking(undefined);
            void load();
          }}
        />
      ) : null}
    </section>
  );
}
