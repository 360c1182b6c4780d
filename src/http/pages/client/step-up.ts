import { startAuthentication } from '@simplewebauthn/browser';
import { ApiError, api } from './api.ts';
import { busy, byId } from './dom.ts';
import { browserSupportsWebAuthn, describePasskeyError } from './webauthn.ts';

/** The person closed the prompt: the action did not happen. */
export class StepUpCancelled extends Error {
  constructor() {
    super('Nothing changed: you did not confirm it was you.');
  }
}

/**
 * Runs a sensitive action; when the server answers `step_up_required`, asks the person to
 * confirm it's them (a passkey first, an emailed code as the fallback) and runs it again. The
 * page around it is untouched, so nothing the person typed is lost.
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

function reauthenticate(details: Record<string, unknown>): Promise<void> {
  const dialog = byId<HTMLDialogElement>('step-up');
  const error = byId('step-up-error');
  const passkey = byId<HTMLButtonElement>('step-up-passkey');
  const email = byId<HTMLButtonElement>('step-up-email');
  const form = byId<HTMLFormElement>('step-up-form');
  const codeField = byId('step-up-code-field');
  const totpField = byId('step-up-totp-field');
  const code = byId<HTMLInputElement>('step-up-code');
  const totp = byId<HTMLInputElement>('step-up-totp');
  const confirm = byId<HTMLButtonElement>('step-up-confirm');
  const cancel = byId<HTMLButtonElement>('step-up-cancel');
  const methods = Array.isArray(details['methods']) ? (details['methods'] as string[]) : ['email'];
  const needsTotp = details['secondFactor'] === 'totp';

  error.textContent = '';
  code.value = '';
  totp.value = '';
  codeField.hidden = true;
  totpField.hidden = true;
  confirm.hidden = true;
  passkey.hidden = !(methods.includes('passkey') && browserSupportsWebAuthn());
  dialog.showModal();
  (passkey.hidden ? email : passkey).focus();

  return new Promise<void>((resolve, reject) => {
    const listeners = new AbortController();
    const { signal } = listeners;
    const finish = (outcome: 'done' | 'cancelled'): void => {
      listeners.abort();
      dialog.close();
      if (outcome === 'done') resolve();
      else reject(new StepUpCancelled());
    };
    const fail = (problem: unknown): void => {
      error.textContent = problem instanceof Error ? problem.message : String(problem);
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

    email.addEventListener(
      'click',
      async () => {
        error.textContent = '';
        try {
          await busy(email, 'Sending…', () => api('POST', '/api/v1/reauth/email', {}));
        } catch (problem) {
          return fail(problem);
        }
        codeField.hidden = false;
        totpField.hidden = !needsTotp;
        confirm.hidden = false;
        email.textContent = 'Send a new code';
        code.focus();
      },
      { signal },
    );

    form.addEventListener(
      'submit',
      async (event) => {
        event.preventDefault();
        error.textContent = '';
        const typed = code.value.replace(/[\s-]/g, '');
        if (!/^\d{6}$/.test(typed)) return fail(new Error('Enter the 6-digit code from the email.'));
        try {
          await busy(confirm, 'Checking…', () =>
            api(
              'POST',
              '/api/v1/reauth/email/verify',
              totp.value ? { code: typed, totp: totp.value } : { code: typed },
            ),
          );
          finish('done');
        } catch (problem) {
          if (problem instanceof ApiError && problem.code === 'second_factor_required')
            totpField.hidden = false;
          fail(problem);
        }
      },
      { signal },
    );

    cancel.addEventListener('click', () => finish('cancelled'), { signal });
    dialog.addEventListener('cancel', () => finish('cancelled'), { signal });
  });
}
