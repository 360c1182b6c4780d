import { ApiError, api, needsSecondFactor, type SignedIn, type SignInResult } from './api.ts';
import { busy, byId, go, messages, showStep } from './dom.ts';
import { afterEmailSignIn } from './passkey-offer.ts';
import { initPasswordForm } from './password-form.ts';
import { askSecondFactor } from './second-factor.ts';
import {
  browserSupportsWebAuthn,
  describePasskeyError,
  PasskeyAutofill,
  signInWithPasskey,
} from './webauthn.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** /sign-in and /sign-up: continue with email (link or code), or a passkey (autofill or button). */
export function initSignIn(): void {
  const redirectTo = document.body.dataset['redirectTo'] || undefined;
  const stepEmail = byId('step-email');
  const stepCode = byId('step-code');
  const steps = [stepEmail, stepCode];
  const emailForm = byId<HTMLFormElement>('email-form');
  const emailInput = byId<HTMLInputElement>('email');
  const codeForm = byId<HTMLFormElement>('code-form');
  const codeInput = byId<HTMLInputElement>('code');
  const passkeyButton = byId<HTMLButtonElement>('passkey-button');
  let email = '';

  const signedInWithPasskey = (result: SignInResult): void => {
    // A passkey that did not verify the user is one factor: the second may be due.
    if (needsSecondFactor(result)) {
      askSecondFactor(result, steps);
      return;
    }
    messages.status('Signed in.');
    go(result.redirectTo);
  };
  const passkeyFailed = (error: unknown): void => {
    const text = describePasskeyError(error, 'sign-in');
    if (text) messages.error(text);
  };
  const autofill = new PasskeyAutofill(redirectTo, signedInWithPasskey, passkeyFailed);

  // Back from a federated sign-in that needs the second factor: that is the only step left.
  const secondFactor = document.body.dataset['secondFactor'];
  if (secondFactor) {
    askSecondFactor(
      { mfa_required: true, enrol: secondFactor === 'enrol', redirectTo: redirectTo ?? null },
      steps,
    );
    return;
  }

  if (browserSupportsWebAuthn()) {
    byId('passkey-option').hidden = false;
    void autofill.start();
  }
  initPasswordForm({
    mode: document.body.dataset['mode'] ?? 'sign-in',
    redirectTo,
    steps,
    beforeSubmit: () => autofill.stop(),
  });

  const invalid = (input: HTMLInputElement, text: string): void => {
    input.setAttribute('aria-invalid', 'true');
    messages.error(text);
    input.focus();
  };
  for (const input of [emailInput, codeInput]) {
    input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
  }

  const requestEmail = async (button: HTMLButtonElement | null, label: string): Promise<boolean> => {
    try {
      await busy(button, label, () =>
        api('POST', '/api/v1/email/sign-in', redirectTo ? { email, redirectTo } : { email }),
      );
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'validation_failed')
        invalid(emailInput, 'Enter a valid email address, such as name@example.com.');
      else messages.error(error instanceof Error ? error.message : String(error));
      return false;
    }
  };

  emailForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    email = emailInput.value.trim();
    if (!EMAIL.test(email)) return invalid(emailInput, 'Enter your email address, such as name@example.com.');
    messages.clear();
    if (!(await requestEmail(emailForm.querySelector('button'), 'Sending…'))) return;
    // The address is chosen: a passkey picked from autofill now would be a surprise.
    autofill.stop();
    byId('code-email').textContent = email;
    codeInput.value = '';
    // Same words for every address: the page must not reveal whether an account exists.
    messages.status('Email sent. Check your inbox.');
    showStep(steps, stepCode, codeInput);
  });

  codeForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    // People paste "123 456" or "123-456".
    const code = codeInput.value.replace(/[\s-]/g, '');
    if (!/^\d{6}$/.test(code)) return invalid(codeInput, 'Enter the 6-digit code from the email.');
    messages.clear();
    let result: SignedIn;
    try {
      result = await busy(codeForm.querySelector('button'), 'Signing in…', () =>
        api<SignedIn>('POST', '/api/v1/email/verify', { email, code }),
      );
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (
        error instanceof ApiError &&
        (error.code === 'invalid_code' || error.code === 'validation_failed')
      ) {
        invalid(codeInput, text);
        codeInput.select();
      } else if (error instanceof ApiError && error.code === 'invalid_or_expired') {
        messages.error(`${text} Send a new code and use the newest email.`);
      } else messages.error(text);
      return;
    }
    await afterEmailSignIn(result, steps);
  });

  byId<HTMLButtonElement>('resend').addEventListener('click', async (event) => {
    messages.clear();
    if (await requestEmail(event.currentTarget as HTMLButtonElement, 'Sending…')) {
      codeInput.value = '';
      messages.status('We sent a new email. Only the newest code works.');
      codeInput.focus();
    }
  });

  byId<HTMLButtonElement>('change-email').addEventListener('click', () => {
    messages.clear();
    showStep(steps, stepEmail, emailInput);
    if (browserSupportsWebAuthn()) void autofill.start();
  });

  passkeyButton.addEventListener('click', async () => {
    messages.clear();
    autofill.stop();
    try {
      const result = await busy(passkeyButton, 'Waiting for your passkey…', () =>
        signInWithPasskey(redirectTo),
      );
      signedInWithPasskey(result);
    } catch (error) {
      passkeyFailed(error);
      void autofill.start();
    }
  });
}
