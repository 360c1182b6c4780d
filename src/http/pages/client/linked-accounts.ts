import { ApiError, api, fetchFragment } from './api.ts';
import { busy, go, localizeTimes, messages } from './dom.ts';

interface Linked {
  identity: { providerName: string };
  redirectTo: string | null;
}

function report(error: unknown): void {
  messages.error(
    error instanceof ApiError && error.status === 401
      ? 'You have been signed out. Sign in again to continue.'
      : error instanceof Error
        ? error.message
        : String(error),
  );
}

/** The account page's "Linked accounts" panel (present when providers are configured or linked). */
export function initLinkedAccounts(): void {
  const section = document.getElementById('identities-section');
  if (!section) return;
  const refresh = async (): Promise<void> => {
    // Our own server's escaped template output (src/http/pages/federation.ts).
    section.innerHTML = await fetchFragment('identities');
    localizeTimes(section);
  };

  section.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action="unlink"]');
    const id = button?.closest<HTMLElement>('[data-identity-id]')?.dataset['identityId'];
    if (!button || !id) return;
    const name = button.dataset['name'] ?? 'this account';
    if (!window.confirm(`Unlink ${name}? You won't be able to sign in with it any more.`)) return;
    messages.clear();
    void busy(button, 'Unlinking…', async () => {
      await api('DELETE', `/api/v1/identities/${encodeURIComponent(id)}`);
      await refresh();
    }).then(() => messages.status(`${name} is unlinked.`), report);
  });

  const pending = document.getElementById('pending-link');
  const confirm = pending?.querySelector<HTMLButtonElement>('button[data-action="complete-link"]');
  confirm?.addEventListener('click', () => {
    messages.clear();
    void busy(confirm, 'Linking…', () => api<Linked>('POST', '/api/v1/identities/link', {})).then(
      async (linked) => {
        if (linked.redirectTo) return go(linked.redirectTo);
        pending?.remove();
        await refresh();
        messages.status(`${linked.identity.providerName} is linked. You can now sign in with it.`);
      },
      report,
    );
  });
}
