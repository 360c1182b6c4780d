import { ApiError, api, fetchFragment } from './api.ts';
import { busy, byId, localizeTimes } from './dom.ts';
import { StepUpCancelled, withStepUp } from './step-up.ts';

/**
 * The account page's password panel (present only when passwords are on; markup in
 * src/http/pages/security.ts). Changing goes through POST /api/v1/password/change behind
 * step-up; the policy (length, common passwords, context words) is the server's, and its
 * reason is shown under the field it is about. Passwords are sent exactly as typed.
 */
export function initPasswordPanel(): void {
  initSetPassword();
  initChangePassword();
}

/** Two lines under the form: one polite status, one error; writing one empties the other. */
function formMessages(prefix: string): { status(text: string): void; error(text: string): void } {
  const status = byId(`${prefix}-status`);
  const error = byId(`${prefix}-error`);
  return {
    status(text) {
      error.textContent = '';
      status.textContent = text;
    },
    error(text) {
      status.textContent = '';
      // Emptied first so a repeated failure is announced again.
      error.textContent = '';
      setTimeout(() => {
        error.textContent = text;
      }, 30);
    },
  };
}

/** No password yet: the API sets a first one only through a mailed link (the reset flow). */
function initSetPassword(): void {
  const button = document.getElementById('password-set') as HTMLButtonElement | null;
  if (!button) return;
  const say = formMessages('password-set');
  button.addEventListener('click', async () => {
    const email = button.dataset['email'] ?? '';
    try {
      await busy(button, 'Sending…', () => api('POST', '/api/v1/password/forgot', { email }));
    } catch (error) {
      say.error(error instanceof Error ? error.message : String(error));
      return;
    }
    say.status(`Check ${email}: open the link we sent to choose your password.`);
  });
}

function initChangePassword(): void {
  const form = document.getElementById('password-change-form') as HTMLFormElement | null;
  if (!form) return;
  const current = byId<HTMLInputElement>('current-password');
  const fresh = byId<HTMLInputElement>('account-new-password');
  const repeat = byId<HTMLInputElement>('repeat-password');
  const fields = [current, fresh, repeat];
  const say = formMessages('password-change');

  const clearErrors = (): void => {
    for (const input of fields) {
      input.removeAttribute('aria-invalid');
      const error = byId(`${input.id}-error`);
      error.textContent = '';
      error.hidden = true;
    }
  };
  /** The problem under its field; the field is described by it, so focus reads it out. */
  const invalid = (input: HTMLInputElement, text: string): void => {
    const error = byId(`${input.id}-error`);
    error.textContent = text;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    input.select();
  };
  for (const input of fields) {
    input.addEventListener('input', () => {
      input.removeAttribute('aria-invalid');
      byId(`${input.id}-error`).hidden = true;
    });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    say.status('');
    if (!current.value) return invalid(current, 'Enter your current password.');
    if (!fresh.value) return invalid(fresh, 'Choose a new password.');
    if (repeat.value !== fresh.value)
      return invalid(repeat, 'This is not the same as the new password. Type it again.');
    try {
      // Read at call time: after a step-up the retry sends what is still in the fields.
      await busy(form.querySelector('button[type="submit"]'), 'Changing…', () =>
        withStepUp(() =>
          api('POST', '/api/v1/password/change', {
            currentPassword: current.value,
            newPassword: fresh.value,
          }),
        ),
      );
    } catch (error) {
      if (error instanceof ApiError && error.code === 'weak_password') return invalid(fresh, error.message);
      if (error instanceof ApiError && error.code === 'invalid_credentials')
        return invalid(current, error.message);
      if (error instanceof StepUpCancelled) return say.error(error.message);
      return say.error(error instanceof Error ? error.message : String(error));
    }
    for (const input of fields) input.value = '';
    say.status(
      'Password changed. Every other device signed in to your account was signed out: sign in there again with the new password.',
    );
    // The list of devices shrank to this one.
    try {
      const sessions = byId('sessions-section');
      // Our own server's escaped template output (src/http/pages/account.ts).
      sessions.innerHTML = await fetchFragment('sessions');
      localizeTimes(sessions);
    } catch {
      // The change is done; a stale list is only cosmetic.
    }
  });
}
