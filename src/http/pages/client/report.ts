import { ApiError } from './api.ts';
import { messages } from './dom.ts';

/**
 * A failed action, in the page's live region. Signed out under our feet (revoked elsewhere,
 * expired): said so, then back to sign-in, and to `returnPath` afterwards.
 */
export function reportError(
  error: unknown,
  returnPath: string,
  describe: (error: unknown) => string = (e) => (e instanceof Error ? e.message : String(e)),
): void {
  if (error instanceof ApiError && error.status === 401) {
    messages.error('You have been signed out. Taking you to the sign-in page…');
    setTimeout(
      () => window.location.assign(`/sign-in?${new URLSearchParams({ redirectTo: returnPath })}`),
      1200,
    );
    return;
  }
  messages.error(describe(error));
}
