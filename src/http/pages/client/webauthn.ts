import {
  type AuthenticationResponseJSON,
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
  WebAuthnError,
} from '@simplewebauthn/browser';
import { ApiError, api, type SignedIn } from './api.ts';

export { browserSupportsWebAuthn };

/** Thrown for a ceremony that was cancelled by our own code (a newer ceremony replaced it). */
export class CeremonySuperseded extends Error {}

/**
 * Plain words for what went wrong in a passkey prompt, or null when there is nothing to say
 * (our own code aborted the ceremony to start another one).
 */
export function describePasskeyError(error: unknown, ceremony: 'create' | 'sign-in'): string | null {
  if (error instanceof CeremonySuperseded) return null;
  if (error instanceof ApiError) return error.message;
  if (error instanceof WebAuthnError) {
    switch (error.code) {
      case 'ERROR_CEREMONY_ABORTED':
        return null;
      case 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED':
        return 'This device already has a passkey for your account. To add another, use a different device or security key.';
      case 'ERROR_INVALID_DOMAIN':
      case 'ERROR_INVALID_RP_ID':
        return 'Passkeys are not set up correctly for this site address. Please tell the site administrator.';
      case 'ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT':
      case 'ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT':
      case 'ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG':
        return "This device or security key can't hold a passkey for this site. Try another one.";
      default:
        break;
    }
  }
  const name = error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'AbortError') {
    return ceremony === 'create'
      ? 'The passkey was not created: the prompt was closed or timed out. You can try again.'
      : 'The passkey prompt was closed or timed out before you signed in. Try again, or continue with email.';
  }
  return ceremony === 'create'
    ? 'Something went wrong while creating the passkey. Try again.'
    : 'Something went wrong while signing in with the passkey. Try again, or continue with email.';
}

/** Adds a passkey on this device to the signed-in user (the optional name defaults on the server). */
export async function createPasskey(name?: string): Promise<void> {
  const optionsJSON = await api<PublicKeyCredentialCreationOptionsJSON>(
    'POST',
    '/api/v1/passkeys/register/options',
    {},
  );
  const response = await startRegistration({ optionsJSON });
  await api('POST', '/api/v1/passkeys/register/verify', name ? { response, name } : { response });
}

async function verifySignIn(
  response: AuthenticationResponseJSON,
  redirectTo: string | undefined,
): Promise<SignedIn> {
  return api<SignedIn>(
    'POST',
    '/api/v1/passkeys/sign-in/verify',
    redirectTo ? { response, redirectTo } : { response },
  );
}

/** Sign in through the browser's passkey prompt (modal). */
export async function signInWithPasskey(redirectTo: string | undefined): Promise<SignedIn> {
  const optionsJSON = await api<PublicKeyCredentialRequestOptionsJSON>(
    'POST',
    '/api/v1/passkeys/sign-in/options',
    {},
  );
  const response = await startAuthentication({ optionsJSON });
  return verifySignIn(response, redirectTo);
}

/**
 * Conditional mediation: passkeys are offered in the email field's autofill list, and this
 * promise settles only if the person picks one. The server's challenge lives 5 minutes, so the
 * pending request is renewed shortly before it would go stale.
 */
export class PasskeyAutofill {
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every start and stop: a request from an older generation gives up quietly. */
  #generation = 0;
  #pending = false;
  readonly #redirectTo: string | undefined;
  readonly #onSignedIn: (result: SignedIn) => void;
  readonly #onError: (error: unknown) => void;

  constructor(
    redirectTo: string | undefined,
    onSignedIn: (result: SignedIn) => void,
    onError: (error: unknown) => void,
  ) {
    this.#redirectTo = redirectTo;
    this.#onSignedIn = onSignedIn;
    this.#onError = onError;
  }

  static async available(): Promise<boolean> {
    try {
      return await browserSupportsWebAuthnAutofill();
    } catch {
      return false;
    }
  }

  /** Starts (or restarts) the pending autofill request. */
  async start(): Promise<void> {
    this.stop();
    const generation = this.#generation;
    if (!(await PasskeyAutofill.available()) || generation !== this.#generation) return;
    let optionsJSON: PublicKeyCredentialRequestOptionsJSON;
    try {
      optionsJSON = await api<PublicKeyCredentialRequestOptionsJSON>(
        'POST',
        '/api/v1/passkeys/sign-in/options',
        {},
      );
    } catch (error) {
      // Without autofill the buttons still work: not worth an error message.
      console.warn('passkey autofill unavailable:', error);
      return;
    }
    if (generation !== this.#generation) return;
    const lifetime = optionsJSON.timeout ?? 300_000;
    this.#timer = setTimeout(() => void this.start(), Math.max(30_000, lifetime - 30_000));
    const startedAt = Date.now();
    this.#pending = true;
    let response: AuthenticationResponseJSON;
    try {
      response = await startAuthentication({ optionsJSON, useBrowserAutofill: true });
    } catch (error) {
      if (generation !== this.#generation || describePasskeyError(error, 'sign-in') === null) return;
      this.stop();
      // The person dismissed the autofill prompt: offer it again, unless the browser refuses
      // outright (then retrying would only loop).
      if (error instanceof Error && error.name === 'NotAllowedError') {
        if (Date.now() - startedAt > 5_000) void this.start();
        return;
      }
      this.#onError(error);
      return;
    }
    if (generation !== this.#generation) return;
    this.stop();
    try {
      this.#onSignedIn(await verifySignIn(response, this.#redirectTo));
    } catch (error) {
      this.#onError(error);
      void this.start();
    }
  }

  /** Cancels the pending request, e.g. before the modal prompt or once email sign-in starts. */
  stop(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    // Only abort when the active ceremony is ours: cancelCeremony aborts whichever one runs.
    if (this.#pending) WebAuthnAbortService.cancelCeremony();
    this.#pending = false;
  }
}
