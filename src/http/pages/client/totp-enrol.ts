import { ApiError, api, type MfaRequired } from './api.ts';
import { busy, byId, go, messages, showStep } from './dom.ts';

export interface TotpSetup {
  secret: string;
  uri: string;
  qrSvg: string;
}

/** Shows our own server's QR code as an image: the SVG is never parsed into the page's DOM. */
export function showQr(image: HTMLImageElement, qrSvg: string): void {
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qrSvg)}`;
}

/** Fills an <ol> with recovery codes as text (never markup). */
export function listCodes(list: HTMLElement, codes: string[]): void {
  list.replaceChildren(
    ...codes.map((code) => {
      const item = document.createElement('li');
      item.textContent = code;
      return item;
    }),
  );
}

/**
 * Setting up an authenticator app as the second step of a sign-in, when the instance requires
 * MFA and the account has none (`enrol: true`). The half-authenticated session may start and
 * confirm exactly this enrolment and nothing else (src/http/routes/mfa.ts); the confirmation
 * completes the sign-in under a new session token, and the recovery codes are shown once
 * before the page moves on.
 */
export function enrolDuringSignIn(result: MfaRequired, steps: HTMLElement[]): void {
  const step = byId('step-enrol');
  const setupBox = byId('enrol-setup');
  const form = byId<HTMLFormElement>('enrol-form');
  const code = byId<HTMLInputElement>('enrol-code');
  const codesBox = byId('enrol-codes');
  const done = byId<HTMLButtonElement>('enrol-done');
  const restart = byId('enrol-restart');
  showStep([...steps, byId('step-mfa'), step], step);

  /** The half-authenticated session ended (expired, too many wrong codes): sign in again. */
  const ended = (error: unknown): boolean => {
    if (!(error instanceof ApiError) || error.status !== 401) return false;
    messages.error(`${error.message} Start again from the sign-in page.`);
    setupBox.hidden = true;
    restart.hidden = false;
    return true;
  };

  const start = async (): Promise<void> => {
    messages.status('Preparing your key…');
    try {
      const setup = await api<TotpSetup>('POST', '/api/v1/mfa/totp/setup', {});
      showQr(byId<HTMLImageElement>('enrol-qr'), setup.qrSvg);
      byId('enrol-secret').textContent = setup.secret;
    } catch (error) {
      if (!ended(error)) {
        messages.error(error instanceof Error ? error.message : String(error));
        restart.hidden = false;
      }
      return;
    }
    setupBox.hidden = false;
    messages.status('Scan the code with your app, then enter the code it shows.');
    code.focus();
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const typed = code.value.replace(/[\s-]/g, '');
    if (!/^\d{6}$/.test(typed)) {
      code.setAttribute('aria-invalid', 'true');
      messages.error('Enter the 6-digit code your authenticator app shows.');
      code.focus();
      return;
    }
    messages.clear();
    let recoveryCodes: string[];
    try {
      ({ recoveryCodes } = await busy(form.querySelector('button'), 'Checking…', () =>
        api<{ recoveryCodes: string[] }>('POST', '/api/v1/mfa/totp/confirm', { code: typed }),
      ));
    } catch (error) {
      if (ended(error)) return;
      code.setAttribute('aria-invalid', 'true');
      messages.error(error instanceof Error ? error.message : String(error));
      code.select();
      return;
    }
    // Signed in now. The codes are on screen only until the person moves on.
    setupBox.hidden = true;
    byId('enrol-secret').textContent = '';
    listCodes(byId('enrol-recovery-codes'), recoveryCodes);
    codesBox.hidden = false;
    messages.status('Two-step sign-in is on, and you are signed in.');
    done.focus();
  });
  code.addEventListener('input', () => code.removeAttribute('aria-invalid'));

  done.addEventListener('click', () => go(result.redirectTo));

  void start();
}
