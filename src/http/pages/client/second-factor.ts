import { ApiError, api, type MfaRequired } from './api.ts';
import { busy, byId, go, messages, showStep } from './dom.ts';
import { enrolDuringSignIn } from './totp-enrol.ts';

/**
 * The second step of a sign-in (issue #3): the server set a half-authenticated session and
 * asks for an authenticator code, or one of the recovery codes; or, when the instance requires
 * MFA and the account has none, for setting up an authenticator app (totp-enrol.ts).
 */
export function askSecondFactor(result: MfaRequired, steps: HTMLElement[]): void {
  const step = byId('step-mfa');
  const form = byId<HTMLFormElement>('mfa-form');
  const codeField = byId('mfa-code-field');
  const recoveryField = byId('mfa-recovery-field');
  const code = byId<HTMLInputElement>('mfa-code');
  const recovery = byId<HTMLInputElement>('mfa-recovery');
  const toggle = byId<HTMLButtonElement>('mfa-use-recovery');
  let useRecovery = false;

  // The instance requires MFA and this account has no second factor: set one up now.
  if (result.enrol) {
    enrolDuringSignIn(result, steps);
    return;
  }
  showStep([...steps, step], step, code);

  toggle.addEventListener('click', () => {
    useRecovery = !useRecovery;
    codeField.hidden = useRecovery;
    recoveryField.hidden = !useRecovery;
    toggle.textContent = useRecovery ? 'Use the authenticator app' : 'Use a recovery code';
    byId('mfa-lede').textContent = useRecovery
      ? 'Enter one of the recovery codes you saved. Each works once.'
      : 'Enter the 6-digit code from your authenticator app.';
    (useRecovery ? recovery : code).focus();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = useRecovery ? recovery : code;
    const value = input.value.trim();
    if (!value) {
      messages.error(useRecovery ? 'Enter a recovery code.' : 'Enter the code from your app.');
      input.focus();
      return;
    }
    messages.clear();
    try {
      await busy(form.querySelector('button'), 'Checking…', () =>
        api(
          'POST',
          '/api/v1/mfa/verify',
          useRecovery ? { recoveryCode: value } : { code: value.replace(/\s/g, '') },
        ),
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        messages.error(`${error.message} Start again from the sign-in page.`);
        return;
      }
      messages.error(error instanceof Error ? error.message : String(error));
      input.select();
      return;
    }
    messages.status('Signed in.');
    go(result.redirectTo);
  });
}
