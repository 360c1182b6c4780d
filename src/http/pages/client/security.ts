import { api } from './api.ts';
import { busy, byId, messages } from './dom.ts';
import { initPasswordPanel } from './password-account.ts';
import { withStepUp } from './step-up.ts';
import { listCodes, showQr, type TotpSetup } from './totp-enrol.ts';

/** Runs an account action with step-up, reporting success or failure in the live regions. */
async function act(
  button: HTMLButtonElement | null,
  label: string,
  action: () => Promise<string | null>,
): Promise<void> {
  messages.clear();
  try {
    const done = await busy(button, label, () => withStepUp(action));
    if (done) messages.status(done);
  } catch (error) {
    messages.error(error instanceof Error ? error.message : String(error));
  }
}

function showRecoveryCodes(codes: string[]): void {
  listCodes(byId('recovery-codes'), codes);
  byId('recovery-box').hidden = false;
  byId('recovery-done').focus();
}

/** The account page's password, two-step sign-in, change of address and deletion (issue #3). */
export function initSecurity(): void {
  initPasswordPanel();
  const start = document.getElementById('totp-start') as HTMLButtonElement | null;
  start?.addEventListener('click', () =>
    act(start, 'Starting…', async () => {
      const { secret, qrSvg } = await api<TotpSetup>('POST', '/api/v1/mfa/totp/setup', {});
      showQr(byId<HTMLImageElement>('totp-qr'), qrSvg);
      byId('totp-secret').textContent = secret;
      byId('totp-enrol').hidden = false;
      start.hidden = true;
      byId('totp-code').focus();
      return 'Scan the code with your app, then enter the code it shows.';
    }),
  );

  const confirmForm = byId<HTMLFormElement>('totp-confirm-form');
  confirmForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const code = byId<HTMLInputElement>('totp-code').value.replace(/\s/g, '');
    void act(confirmForm.querySelector('button'), 'Checking…', async () => {
      const { recoveryCodes } = await api<{ recoveryCodes: string[] }>('POST', '/api/v1/mfa/totp/confirm', {
        code,
      });
      byId('totp-enrol').hidden = true;
      showRecoveryCodes(recoveryCodes);
      return 'Two-step sign-in is on.';
    });
  });

  const renew = document.getElementById('recovery-new') as HTMLButtonElement | null;
  renew?.addEventListener('click', () =>
    act(renew, 'Generating…', async () => {
      const { recoveryCodes } = await api<{ recoveryCodes: string[] }>(
        'POST',
        '/api/v1/mfa/recovery-codes',
        {},
      );
      showRecoveryCodes(recoveryCodes);
      return 'New recovery codes. The old ones no longer work.';
    }),
  );
  byId('recovery-done').addEventListener('click', () => window.location.reload());

  const remove = document.getElementById('totp-remove') as HTMLButtonElement | null;
  remove?.addEventListener('click', () => {
    if (!window.confirm('Remove the authenticator app? Signing in will no longer ask for its codes.')) return;
    void act(remove, 'Removing…', async () => {
      await api('DELETE', '/api/v1/mfa/totp');
      window.location.reload();
      return null;
    });
  });

  const emailForm = byId<HTMLFormElement>('email-change-form');
  emailForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const email = byId<HTMLInputElement>('new-email').value.trim();
    void act(emailForm.querySelector('button'), 'Sending…', async () => {
      await api('POST', '/api/v1/me/email', { email });
      return `Check ${email}: the change happens when you open the link we sent there.`;
    });
  });

  const erase = byId<HTMLButtonElement>('delete-account');
  erase.addEventListener('click', () => {
    if (!window.confirm('Delete your account and every way to sign in to it? This cannot be undone.')) return;
    void act(erase, 'Deleting…', async () => {
      await api('DELETE', '/api/v1/me');
      window.location.assign('/sign-in');
      return null;
    });
  });
}
