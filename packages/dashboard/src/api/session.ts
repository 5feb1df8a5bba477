/*
 * Where the API token lives in the browser. By default in sessionStorage: the token is an API
 * credential, and sessionStorage keeps it to this tab and forgets it when the tab closes, so a shared
 * or unattended machine does not keep someone signed in. "Remember me" puts it in localStorage
 * instead. Neither is readable by other sites; the dashboard loads no third-party script.
 */

const KEY = 'flagstaff.token';

export function readToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? undefined;
}

export function saveToken(token: string, remember: boolean): void {
  clearToken();
  (remember ? localStorage : sessionStorage).setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

/**
 * Takes a token handed over in the URL fragment (`#token=…`, as `flagstaff dev` prints it) and removes
 * it from the address bar and history at once. A fragment never reaches a server, a log or a
 * Referer header, which is why the link carries it there rather than in the query string.
 */
export function takeTokenFromFragment(): string | undefined {
  const hash = window.location.hash;
  if (!hash.startsWith('#')) return undefined;
  const params = new URLSearchParams(hash.slice(1));
  const token = params.get('token');
  if (!token) return undefined;
  params.delete('token');
  const rest = params.toString();
  window.history.replaceState(
    window.history.state,
    '',
    `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`,
  );
  return token;
}
