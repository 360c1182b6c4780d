import type { CustomFetch } from 'openid-client';

/** Outbound HTTP to providers: the global fetch, or one a test routes to a local server. */
export type Fetch = CustomFetch;

/** The platform fetch, typed as openid-client calls it (its body types are a subset of fetch's). */
export const platformFetch: Fetch = (url, options) => fetch(url, options as RequestInit);

/** A provider request may not hang a sign-in. */
export const UPSTREAM_TIMEOUT_MS = 10_000;

/** Why a federated sign-in did not complete; the HTTP layer turns it into a page message. */
export type FederationFailureReason =
  /** The person cancelled at the provider (`access_denied`). */
  | 'cancelled'
  /** The flow cookie is missing, expired, already used, or from another provider. */
  | 'expired'
  /** The provider's answer failed a check (state, issuer, signature, nonce, …). */
  | 'failed'
  /** The provider could not be reached or answered nonsense. */
  | 'unavailable'
  /** The provider shared no usable email address. */
  | 'no_email'
  /** The address is not verified by the provider, so it can neither create nor join an account. */
  | 'email_unverified'
  | 'sign_up_closed'
  /** The upstream account is already linked to another Gatehouse account. */
  | 'already_linked';

export class FederationError extends Error {
  override name = 'FederationError';
  readonly reason: FederationFailureReason;
  /** For the audit log: which check failed. Never a token or code. */
  readonly detail: string;

  constructor(reason: FederationFailureReason, detail: string, options?: { cause?: unknown }) {
    super(`federation ${reason}: ${detail}`, options);
    this.reason = reason;
    this.detail = detail;
  }
}

/** GET a JSON document from a provider; anything but a 200 JSON answer is `unavailable`. */
export async function fetchJson(
  fetch: Fetch,
  url: string,
  headers: Record<string, string>,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'GET',
      body: undefined,
      headers: { accept: 'application/json', ...headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
  } catch (error) {
    throw new FederationError('unavailable', `request to ${new URL(url).origin} failed`, { cause: error });
  }
  if (response.status !== 200) {
    throw new FederationError('unavailable', `${new URL(url).origin} answered HTTP ${response.status}`);
  }
  try {
    return await response.json();
  } catch (error) {
    throw new FederationError('unavailable', `${new URL(url).origin} answered with invalid JSON`, {
      cause: error,
    });
  }
}
