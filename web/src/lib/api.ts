/**
 * The dashboard's only way to the server: JSON over the HTTP API with the admin token as a bearer token.
 * Errors become `ApiError` with the server's code and message (docs/http-api.md), never a raw stack.
 */

/** sessionStorage key of the admin token (cleared on sign-out and when the tab closes). */
export const TOKEN_KEY = 'keyward.adminToken';

/** A page of a listing, as every list route answers. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** An answer other than 2xx, or no answer at all. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** Listeners told when the server answers 401 (the token is wrong or was rotated): the app signs out. */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

/** Builds `/api/v1/<path>?query`, leaving out undefined, null and empty values. */
export function apiUrl(
  path: string,
  query: Record<string, string | number | boolean | null | undefined> = {},
): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `/api/v1/${path.replace(/^\//, '')}${qs ? `?${qs}` : ''}`;
}

async function request<T>(method: string, url: string, body?: unknown, token = getToken()): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError('the Keyward server did not answer: is it running?', 0, 'KW_NETWORK');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    const err = (json ?? {}) as { code?: string; message?: string; error_description?: string };
    if (res.status === 401) for (const fn of unauthorizedListeners) fn();
    throw new ApiError(
      err.message ?? err.error_description ?? `the server answered ${res.status}`,
      res.status,
      err.code ?? `HTTP_${res.status}`,
    );
  }
  if (json === null && text)
    throw new ApiError(`the server's answer to ${url} is not JSON`, res.status, 'KW_BAD_ANSWER');
  return json as T;
}

/** GET a JSON API path (`identities`, `findings/…`) with query parameters. */
export function apiGet<T>(
  path: string,
  query?: Record<string, string | number | boolean | null | undefined>,
): Promise<T> {
  return request<T>('GET', apiUrl(path, query));
}

/** POST JSON to an API path. */
export function apiPost<T>(path: string, body: unknown = {}): Promise<T> {
  return request<T>('POST', apiUrl(path), body);
}

/** Checks a token before keeping it: true when the server accepts it. */
export async function checkToken(token: string): Promise<boolean> {
  try {
    await request('GET', apiUrl('identities', { limit: 1 }), undefined, token);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return false;
    throw e;
  }
}

/**
 * Every item of a listing, fetching pages of `pageSize` (the API's maximum is 1000): the first, then the rest
 * in parallel. `onFirstPage` gets the first page as soon as it arrives, so a page can draw before the rest.
 */
export async function apiGetAll<T>(
  path: string,
  query: Record<string, string | number | boolean | null | undefined> = {},
  pageSize = 1000,
  onFirstPage?: (items: T[], total: number) => void,
): Promise<T[]> {
  const first = await apiGet<Page<T>>(path, { ...query, limit: pageSize, offset: 0 });
  const items = [...first.items];
  if (items.length >= first.total) return items;
  onFirstPage?.(first.items, first.total);
  const rest: Array<Promise<Page<T>>> = [];
  for (let offset = pageSize; offset < first.total; offset += pageSize)
    rest.push(apiGet<Page<T>>(path, { ...query, limit: pageSize, offset }));
  for (const page of await Promise.all(rest)) items.push(...page.items);
  return items;
}
