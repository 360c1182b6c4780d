import { ApiError, api, needsSecondFactor, type SignInResult } from './api.ts';
import { busy, byId, go, messages } from './dom.ts';
import { askSecondFactor } from './second-factor.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The password form of /sign-in and /sign-up (present only when passwords are on). It uses the
 * page's email field; the password is sent exactly as typed (no trimming).
 */
export function initPasswordForm(options: {
  mode: string;
  redirectTo: string | undefined;
  steps: HTMLElement[];
  beforeSubmit: () => void;
}): void {
  const form = document.getElementById('password-form') as HTMLFormElement | null;
  if (!form) return;
  const emailInput = byId<HTMLInputElement>('email');
  const password = byId<HTMLInputElement>('password');
  const signUp = options.mode === 'sign-up';

  const email = (): string | null => {
    const value = emailInput.value.trim();
    if (EMAIL.test(value)) return value;
    emailInput.setAttribute('aria-invalid', 'true');
    messages.error('Enter your email address, such as name@example.com.');
    emailInput.focus();
    return null;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const address = email();
    if (!address) return;
    if (!password.value) {
      messages.error('Enter your password.');
      password.focus();
      return;
    }
    messages.clear();
    options.beforeSubmit();
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
    try {
      if (signUp) {
        await busy(button, 'Signing up…', () =>
          api('POST', '/api/v1/password/sign-up', { email: address, password: password.value }),
        );
        password.value = '';
        messages.status('Check your email: open the link we sent to finish creating your account.');
        return;
      }
      const result = await busy(button, 'Signing in…', () =>
        api<SignInResult>('POST', '/api/v1/password/sign-in', {
          email: address,
          password: password.value,
          ...(options.redirectTo ? { redirectTo: options.redirectTo } : {}),
        }),
      );
      if (needsSecondFactor(result)) return askSecondFactor(result, options.steps);
      messages.status('Signed in.');
      go(result.redirectTo);
    } catch (error) {
      messages.error(error instanceof Error ? error.message : String(error));
      if (
        error instanceof ApiError &&
        (error.code === 'invalid_credentials' || error.code === 'weak_password')
      ) {
        password.select();
      }
    }
  });

  document.getElementById('forgot-password')?.addEventListener('click', async (event) => {
    const address = email();
    if (!address) return;
    messages.clear();
    try {
      await busy(event.currentTarget as HTMLButtonElement, 'Sending…', () =>
        api('POST', '/api/v1/password/forgot', { email: address }),
      );
      messages.status('If the address has an account, a reset link is on its way.');
    } catch (error) {
      messages.error(error instanceof Error ? error.message : String(error));
    }
  });
}
