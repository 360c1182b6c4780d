/**
 * The pages' only way to change anything: the public JSON API on the same origin. Same-origin
 * fetch sends `Sec-Fetch-Site: same-origin` and the session cookie, which is what the
 * cross-origin protection expects; a JSON Content-Type is required on every body.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The error's other public fields (step_up_required says what would satisfy it). */
  readonly details: Record<string, unknown>;
  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  401: 'You are signed out. Sign in again to continue.',
  403: 'That is not allowed.',
  404: 'That was not found. It may have been removed already.',
  429: 'Too many attempts. Wait a minute and try again.',
  500: 'Something went wrong on our side. Try again in a moment.',
  503: 'The service is temporarily unavailable. Try again shortly.',
};

export async function api<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(method === 'POST' || method === 'PATCH' ? { 'content-type': 'application/json' } : {}),
      },
      body: method === 'POST' || method === 'PATCH' ? JSON.stringify(body ?? {}) : undefined,
    });
  } catch {
    throw new ApiError(0, 'network', "Couldn't reach the server. Check your connection and try again.");
  }
  if (response.status === 204) return undefined as T;
  let parsed: unknown = null;
  try {
    parsed = await response.json();
  } catch {
    // Not JSON (a proxy's error page, say): fall through to the status-based message.
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http_${response.status}`;
    const message =
      typeof error?.message === 'string' && error.message
        ? error.message
        : (FALLBACK_MESSAGES[response.status] ?? `The request failed (HTTP ${response.status}). Try again.`);
    throw new ApiError(response.status, code, message, (error ?? {}) as Record<string, unknown>);
  }
  return parsed as T;
}

/** An HTML fragment of the account page (see src/http/pages/account.ts). */
export async function fetchFragment(name: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`/account/fragments/${encodeURIComponent(name)}`, { credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', "Couldn't reach the server. Check your connection and try again.");
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      response.status === 401 ? 'unauthenticated' : `http_${response.status}`,
      FALLBACK_MESSAGES[response.status] ?? `Couldn't refresh the page (HTTP ${response.status}).`,
    );
  }
  return response.text();
}

export interface SignedIn {
  user: { id: string; email: string; displayName: string | null };
  session: { id: string };
  created?: boolean;
  redirectTo: string | null;
}

/** A first factor that needs a second: a half-authenticated session is set (issue #3). */
export interface MfaRequired {
  mfa_required: true;
  enrol: boolean;
  redirectTo: string | null;
}

export type SignInResult = SignedIn | MfaRequired;

export function needsSecondFactor(result: SignInResult): result is MfaRequired {
  return 'mfa_required' in result && result.mfa_required === true;
}
