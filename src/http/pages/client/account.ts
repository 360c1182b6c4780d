import { ApiError, api, fetchFragment } from './api.ts';
import { busy, byId, localizeTimes, messages } from './dom.ts';
import { initConnectedApps } from './connected-apps.ts';
import { initLinkedAccounts } from './linked-accounts.ts';
import { reportError } from './report.ts';
import { initSecurity } from './security.ts';
import { StepUpCancelled, withStepUp } from './step-up.ts';
import { browserSupportsWebAuthn, createPasskey, describePasskeyError } from './webauthn.ts';

const report = (error: unknown): void => reportError(error, '/account');

async function refresh(name: 'passkeys' | 'sessions'): Promise<void> {
  const container = byId(`${name}-section`);
  // Our own server's escaped template output (src/http/pages/account.ts), never built from data here.
  container.innerHTML = await fetchFragment(name);
  localizeTimes(container);
}

/** Runs one account action: busy button, errors in the live region, success announced. */
async function act(
  button: HTMLButtonElement | null,
  label: string | null,
  action: () => Promise<string | null>,
): Promise<boolean> {
  messages.clear();
  try {
    const done = await busy(button, label, action);
    if (done) messages.status(done);
    return true;
  } catch (error) {
    report(error);
    return false;
  }
}

export function initAccount(): void {
  const signOut = byId<HTMLButtonElement>('sign-out');
  signOut.addEventListener('click', () =>
    act(signOut, 'Signing out…', async () => {
      await api('DELETE', '/api/v1/session');
      window.location.assign('/sign-in');
      return null;
    }),
  );

  // Profile.
  const profileForm = byId<HTMLFormElement>('profile-form');
  const displayName = byId<HTMLInputElement>('display-name');
  profileForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(profileForm.querySelector('button'), 'Saving…', async () => {
      const { user } = await api<{ user: { displayName: string | null } }>('PATCH', '/api/v1/me', {
        displayName: displayName.value.trim() || null,
      });
      displayName.value = user.displayName ?? '';
      return 'Profile saved.';
    });
  });

  // Passkeys.
  const addPasskey = byId<HTMLButtonElement>('add-passkey');
  if (browserSupportsWebAuthn()) addPasskey.hidden = false;
  else byId('no-webauthn').hidden = false;
  addPasskey.addEventListener('click', async () => {
    messages.clear();
    try {
      await busy(addPasskey, 'Waiting for your device…', () => withStepUp(() => createPasskey()));
    } catch (error) {
      if (error instanceof ApiError || error instanceof StepUpCancelled) return report(error);
      const text = describePasskeyError(error, 'create');
      if (text) messages.error(text);
      return;
    }
    await act(null, null, async () => {
      await refresh('passkeys');
      return 'Passkey added.';
    });
  });

  const passkeys = byId('passkeys-section');
  passkeys.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
    const item = button?.closest<HTMLElement>('[data-passkey-id]');
    if (!button || !item) return;
    const id = item.dataset['passkeyId'] ?? '';
    const name = item.querySelector('[data-role="name"]')?.textContent ?? 'this passkey';
    const form = item.querySelector<HTMLFormElement>('[data-role="rename-form"]');
    const actions = item.querySelector<HTMLElement>('[data-role="actions"]');
    switch (button.dataset['action']) {
      case 'rename':
        if (!form || !actions) return;
        form.hidden = false;
        actions.hidden = true;
        form.querySelector('input')?.select();
        form.querySelector('input')?.focus();
        return;
      case 'rename-cancel':
        if (!form || !actions) return;
        form.hidden = true;
        actions.hidden = false;
        actions.querySelector<HTMLButtonElement>('[data-action="rename"]')?.focus();
        return;
      case 'remove':
        if (!window.confirm(`Remove the passkey "${name}"? You won't be able to sign in with it any more.`))
          return;
        void act(button, 'Removing…', async () => {
          await withStepUp(() => api('DELETE', `/api/v1/passkeys/${encodeURIComponent(id)}`));
          await refresh('passkeys');
          return `Passkey "${name}" removed. You may also want to delete it from your device's passkey list.`;
        });
        return;
    }
  });
  passkeys.addEventListener('submit', (event) => {
    const form = event.target as HTMLFormElement;
    const item = form.closest<HTMLElement>('[data-passkey-id]');
    if (!item) return;
    event.preventDefault();
    const input = form.querySelector('input');
    const name = input?.value.trim() ?? '';
    if (!name) {
      input?.setAttribute('aria-invalid', 'true');
      messages.error('Give the passkey a name, such as "Work laptop".');
      input?.focus();
      return;
    }
    void act(form.querySelector('button[type="submit"]'), 'Saving…', async () => {
      await api('PATCH', `/api/v1/passkeys/${encodeURIComponent(item.dataset['passkeyId'] ?? '')}`, { name });
      await refresh('passkeys');
      return `Passkey renamed to "${name}".`;
    });
  });

  // Sessions.
  byId('sessions-section').addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
    if (!button) return;
    if (button.dataset['action'] === 'revoke') {
      const id = button.closest<HTMLElement>('[data-session-id]')?.dataset['sessionId'] ?? '';
      void act(button, 'Signing out…', async () => {
        await api('DELETE', `/api/v1/sessions/${encodeURIComponent(id)}`);
        await refresh('sessions');
        return 'That device is signed out. It will have to sign in again.';
      });
    } else if (button.dataset['action'] === 'revoke-others') {
      void act(button, 'Signing out…', async () => {
        const { revoked } = await withStepUp(() =>
          api<{ revoked: number }>('POST', '/api/v1/sessions/revoke-others', {}),
        );
        await refresh('sessions');
        return revoked === 1 ? 'Signed out of 1 other device.' : `Signed out of ${revoked} other devices.`;
      });
    }
  });

  initConnectedApps();
  initSecurity();
  initLinkedAccounts();
}
