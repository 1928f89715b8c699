// The one way the UI talks to the registry: Quay's `/api/v1`, with the session's cookie and
// CSRF token, and errors turned into messages a person can read.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorType?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

/** Remembers the session's CSRF token, which every changing request sends. */
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** Asks the user for their password again; resolves once the server took it. */
let confirmPassword: (() => Promise<void>) | null = null;

/**
 * Who answers the server's `fresh_login_required` (a sensitive change long after signing in):
 * the request is sent again once the password is confirmed.
 */
export function onFreshLoginRequired(handler: (() => Promise<void>) | null) {
  confirmPassword = handler;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

async function request<T>(method: Method, path: string, body?: unknown, confirmed = false): Promise<T> {
  const headers: Record<string, string> = { 'X-Requested-With': 'XMLHttpRequest' };
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const next = response.headers.get('x-next-csrf-token');
  if (next) csrfToken = next;
  const text = await response.text();
  const parsed = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const failure = new ApiError(response.status, errorMessage(response, parsed), errorType(parsed));
    if (failure.errorType === 'fresh_login_required' && confirmPassword && !confirmed) {
      await confirmPassword();
      return request<T>(method, path, body, true);
    }
    throw failure;
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorMessage(response: Response, body: unknown): string {
  if (body && typeof body === 'object') {
    const fields = body as Record<string, unknown>;
    for (const key of ['error_message', 'detail', 'message', 'error_description']) {
      if (typeof fields[key] === 'string' && fields[key]) return fields[key] as string;
    }
    const errors = fields.errors;
    if (Array.isArray(errors) && errors[0]?.message) return String(errors[0].message);
  }
  return `${response.status} ${response.statusText}`.trim();
}

function errorType(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const kind = (body as Record<string, unknown>).error_type;
    if (typeof kind === 'string') return kind;
  }
  return undefined;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown = {}) => request<T>('PUT', path, body),
  delete: <T = unknown>(path: string) => request<T>('DELETE', path),
};

/** A path segment, escaped: names may hold characters a URL gives meaning to. */
export const seg = (name: string) => encodeURIComponent(name);

/** `/api/v1/repository/{ns}/{repo}` and what follows. */
export const repoPath = (namespace: string, repository: string, rest = '') =>
  `/api/v1/repository/${seg(namespace)}/${seg(repository)}${rest}`;

/** A message for any failure. */
export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Every item of a paged list (`{ [field]: T[], next_page }`), page after page. */
export async function allPages<T>(path: string, field: string): Promise<T[]> {
  const found: T[] = [];
  const joiner = path.includes('?') ? '&' : '?';
  let next: string | null = null;
  do {
    const query: string = next ? `${joiner}next_page=${encodeURIComponent(next)}` : '';
    const page: Record<string, unknown> = await api.get(`${path}${query}`);
    found.push(...((page[field] as T[] | undefined) ?? []));
    next = (page.next_page as string | null | undefined) ?? null;
  } while (next);
  return found;
}
