import { startAuthentication } from '@simplewebauthn/browser';
import { ApiError, api } from './api.ts';
import { busy, byId } from './dom.ts';
import { offeredMethods, readRequirement } from './step-up-methods.ts';
import { browserSupportsWebAuthn, describePasskeyError } from './webauthn.ts';

/** The person closed the prompt: the action did not happen. */
export class StepUpCancelled extends Error {
  constructor() {
    super('Nothing changed: you did not confirm it was you.');
  }
}

/**
 * Runs a sensitive action; when the server answers `step_up_required`, asks the person to
 * confirm it's them (a passkey, their password or an emailed code, whichever they have and the
 * answer allows) and runs it again. The page around it is untouched, so nothing the person
 * typed is lost.
 */
export async function withStepUp<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'step_up_required') throw error;
    await reauthenticate(error.details);
    return action();
  }
}

/**
 * The prompt itself: resolves once the server has issued the re-authenticated session, rejects
 * with StepUpCancelled when the person closes it. `details` is the 403's brief (or the OAuth
 * re-authentication page's, the same shape).
 */
export function reauthenticate(details: Record<string, unknown>): Promise<void> {
  const dialog = byId<HTMLDialogElement>('step-up');
  const error = byId('step-up-error');
  const passkey = byId<HTMLButtonElement>('step-up-passkey');
  const passwordButton = byId<HTMLButtonElement>('step-up-password');
  const email = byId<HTMLButtonElement>('step-up-email');
  const none = byId('step-up-none');
  const form = byId<HTMLFormElement>('step-up-form');
  const codeField = byId('step-up-code-field');
  const passwordField = byId('step-up-password-field');
  const totpField = byId('step-up-totp-field');
  const code = byId<HTMLInputElement>('step-up-code');
  const password = byId<HTMLInputElement>('step-up-password-input');
  const totp = byId<HTMLInputElement>('step-up-totp');
  const confirm = byId<HTMLButtonElement>('step-up-confirm');
  const cancel = byId<HTMLButtonElement>('step-up-cancel');
  const requirement = readRequirement(details);
  const offered = offeredMethods(requirement, browserSupportsWebAuthn());
  const needsTotp = requirement.secondFactor === 'totp';
  /** Which one-factor way the form below completes. */
  let mode: 'email' | 'password' | null = null;

  error.textContent = '';
  code.value = '';
  password.value = '';
  totp.value = '';
  codeField.hidden = true;
  passwordField.hidden = true;
  totpField.hidden = true;
  confirm.hidden = true;
  passkey.hidden = !offered.includes('passkey');
  passwordButton.hidden = !offered.includes('password');
  email.hidden = !offered.includes('email');
  email.textContent = 'Email me a code';
  none.hidden = offered.length > 0;
  dialog.showModal();
  [passkey, passwordButton, email, cancel].find((button) => !button.hidden)?.focus();

  return new Promise<void>((resolve, reject) => {
    const listeners = new AbortController();
    const { signal } = listeners;
    const finish = (outcome: 'done' | 'cancelled'): void => {
      listeners.abort();
      // Nothing typed here outlives the prompt.
      password.value = '';
      dialog.close();
      if (outcome === 'done') resolve();
      else reject(new StepUpCancelled());
    };
    const fail = (problem: unknown): void => {
      error.textContent = problem instanceof Error ? problem.message : String(problem);
    };
    /** Shows the form for one of the one-factor ways, with the authenticator code if due. */
    const use = (chosen: 'email' | 'password'): void => {
      mode = chosen;
      codeField.hidden = chosen !== 'email';
      passwordField.hidden = chosen !== 'password';
      totpField.hidden = !needsTotp;
      confirm.hidden = false;
      (chosen === 'email' ? code : password).focus();
    };

    passkey.addEventListener(
      'click',
      async () => {
        error.textContent = '';
        try {
          await busy(passkey, 'Waiting for your passkey…', async () => {
            const optionsJSON = await api<Parameters<typeof startAuthentication>[0]['optionsJSON']>(
              'POST',
              '/api/v1/reauth/passkey/options',
              {},
            );
            const response = await startAuthentication({ optionsJSON });
            await api(
              'POST',
              '/api/v1/reauth/passkey/verify',
              totp.value ? { response, totp: totp.value } : { response },
            );
          });
          finish('done');
        } catch (problem) {
          if (problem instanceof ApiError && problem.code === 'second_factor_required') {
            totpField.hidden = false;
            totp.focus();
          }
          const text =
            problem instanceof ApiError ? problem.message : describePasskeyError(problem, 'sign-in');
          if (text) error.textContent = text;
        }
      },
      { signal },
    );

    passwordButton.addEventListener(
      'click',
      () => {
        error.textContent = '';
        use('password');
      },
      { signal },
    );

    email.addEventListener(
      'click',
      async () => {
        error.textContent = '';
        try {
          await busy(email, 'Sending…', () => api('POST', '/api/v1/reauth/email', {}));
        } catch (problem) {
          return fail(problem);
        }
        use('email');
        email.textContent = 'Send a new code';
      },
      { signal },
    );

    form.addEventListener(
      'submit',
      async (event) => {
        event.preventDefault();
        if (mode === null) return;
        error.textContent = '';
        const second = totp.value.replace(/[\s-]/g, '');
        if (!totpField.hidden && !/^\d{6}$/.test(second)) {
          totp.focus();
          return fail(new Error('Enter the 6-digit code from your authenticator app.'));
        }
        const withTotp: Record<string, string> = totpField.hidden ? {} : { totp: second };
        let path: string;
        let body: Record<string, string>;
        if (mode === 'password') {
          // Exactly as typed: a password is never trimmed (src/http/routes/passwords.ts).
          if (!password.value) {
            password.focus();
            return fail(new Error('Enter your password.'));
          }
          path = '/api/v1/reauth/password';
          body = { password: password.value, ...withTotp };
        } else {
          const typed = code.value.replace(/[\s-]/g, '');
          if (!/^\d{6}$/.test(typed)) {
            code.focus();
            return fail(new Error('Enter the 6-digit code from the email.'));
          }
          path = '/api/v1/reauth/email/verify';
          body = { code: typed, ...withTotp };
        }
        try {
          await busy(confirm, 'Checking…', () => api('POST', path, body));
          finish('done');
        } catch (problem) {
          if (problem instanceof ApiError && problem.code === 'second_factor_required') {
            totpField.hidden = false;
            totp.focus();
          } else if (problem instanceof ApiError && problem.code === 'invalid_credentials') {
            password.select();
          }
          fail(problem);
        }
      },
      { signal },
    );

    cancel.addEventListener('click', () => finish('cancelled'), { signal });
    dialog.addEventListener('cancel', () => finish('cancelled'), { signal });
  });
}
