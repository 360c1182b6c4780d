import { ApiError, api, type SignedIn } from './api.ts';
import { busy, byId, messages } from './dom.ts';
import { afterEmailSignIn } from './passkey-offer.ts';

const TOKEN = /^[A-Za-z0-9_-]{20,200}$/;

/** Removes the token from the address bar and history: it must not linger once used. */
function clearFragment(): void {
  history.replaceState(history.state, '', window.location.pathname + window.location.search);
}

/**
 * /email/verify#token=…: the token is redeemed only when the person clicks, never on load, so
 * mail scanners and link previews that open the page do not use up the link.
 */
export function initEmailVerify(): void {
  const button = byId<HTMLButtonElement>('verify-button');
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
  const broken = (text: string): void => {
    button.hidden = true;
    byId('verify-restart').hidden = false;
    messages.error(text);
  };
  if (!TOKEN.test(token)) {
    clearFragment();
    broken('This sign-in link is incomplete. Open the link from your email again, or ask for a new one.');
    return;
  }
  button.addEventListener('click', async () => {
    messages.clear();
    let result: SignedIn;
    try {
      result = await busy(button, 'Signing in…', () =>
        api<SignedIn>('POST', '/api/v1/email/verify', { token }),
      );
    } catch (error) {
      if (
        error instanceof ApiError &&
        (error.code === 'invalid_or_expired' || error.code === 'validation_failed')
      ) {
        clearFragment();
        const minutes = document.body.dataset['ttlMinutes'];
        broken(
          `This sign-in link has expired or was already used. Links work once${minutes ? `, for ${minutes} minutes` : ''}.`,
        );
        return;
      }
      // Network trouble and the like: the link may still be good, so keep it for a retry.
      messages.error(error instanceof Error ? error.message : String(error));
      return;
    }
    clearFragment();
    await afterEmailSignIn(result, [byId('step-verify')]);
  });
}
