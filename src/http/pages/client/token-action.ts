import { ApiError, api, needsSecondFactor, type SignInResult } from './api.ts';
import { busy, byId, go, messages } from './dom.ts';
import { askSecondFactor } from './second-factor.ts';

const TOKEN = /^[A-Za-z0-9_-]{20,200}$/;

/**
 * Landing pages of mailed links (confirm a password sign-up, reset a password, confirm or undo
 * a change of address). The token is in the fragment and is used only on the click.
 */
export function initTokenAction(): void {
  const { endpoint = '', done = '', kind = '' } = document.body.dataset;
  const form = byId<HTMLFormElement>('token-form');
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
  // The token leaves the address bar and history at once.
  history.replaceState(history.state, '', window.location.pathname + window.location.search);
  if (!TOKEN.test(token)) {
    form.hidden = true;
    byId('token-next').hidden = false;
    messages.error('This link is incomplete. Open it from your email again.');
    return;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    messages.clear();
    const password = document.getElementById('new-password') as HTMLInputElement | null;
    let result: SignInResult | Record<string, unknown>;
    try {
      result = await busy(form.querySelector('button'), 'Working…', () =>
        api<SignInResult>('POST', endpoint, password ? { token, password: password.value } : { token }),
      );
    } catch (error) {
      messages.error(error instanceof Error ? error.message : String(error));
      if (error instanceof ApiError && error.code === 'invalid_or_expired') form.hidden = true;
      return;
    }
    if (kind === 'password-confirm') {
      const signIn = result as SignInResult;
      if (needsSecondFactor(signIn)) return askSecondFactor(signIn, [byId('step-token')]);
      return go('/account');
    }
    form.hidden = true;
    messages.status(done);
    const next = byId('token-next');
    next.hidden = false;
    if (kind === 'email-change') {
      const link = next.querySelector('a');
      if (link) {
        link.href = '/account';
        link.textContent = 'Go to your account';
      }
    }
  });
}
