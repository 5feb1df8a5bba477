import { useState } from 'preact/hooks';

interface SignInProps {
  message?: string;
  onSignedIn(token: string, remember: boolean): void;
}

/**
 * Sign-in with an API token. The token is checked against the service before it is kept, so a typo
 * is reported here rather than as a failure on the first page.
 */
export function SignIn({ message, onSignedIn }: SignInProps) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const secret = token.trim();
    if (!secret) {
      setProblem('Paste an API token (it starts with "api-").');
      return;
    }
    if (/^(sdk|mob)-/.test(secret)) {
      setProblem('That is an SDK or mobile key, which SDKs use. The dashboard needs an API token ("api-…").');
      return;
    }
    setBusy(true);
    setProblem(undefined);
    try {
      const res = await fetch('/api/v1/projects?limit=1', { headers: { authorization: `Bearer ${secret}` } });
      if (res.status === 401)
        setProblem('The service did not accept this token: it is unknown or was revoked.');
      else if (!res.ok) setProblem(`The service answered ${res.status}; try again.`);
      else onSignedIn(secret, remember);
    } catch {
      setProblem('The flag service could not be reached.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="center-page">
      <form class="card stack sign-in" onSubmit={submit} noValidate>
        <h1>
          <span class="logo" aria-hidden="true">
            ⚑
          </span>{' '}
          Flagstaff
        </h1>
        {message ? (
          <p class="notice" role="alert">
            {message}
          </p>
        ) : null}
        <label class="field">
          <span>API token</span>
          <input
            type="password"
            name="token"
            autoComplete="off"
            value={token}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'token-problem' : 'token-help'}
            onInput={(e) => setToken(e.currentTarget.value)}
            // biome-ignore lint/a11y/noAutofocus: the only thing to do on this page
            autoFocus
          />
        </label>
        {problem ? (
          <p class="field-problems" id="token-problem" role="alert">
            {problem}
          </p>
        ) : (
          <p class="muted" id="token-help">
            <code>flagstaff dev</code> prints a sign-in link and an admin token; admins create others with{' '}
            <code>POST /api/v1/tokens</code>.
          </p>
        )}
        <label class="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} />
          <span>Keep me signed in on this device</span>
        </label>
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
