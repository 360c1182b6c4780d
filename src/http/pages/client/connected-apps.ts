import { ApiError, api, fetchFragment } from './api.ts';
import { busy, localizeTimes, messages } from './dom.ts';

/** The account page's "Connected apps" section (present only when the OAuth provider is on). */
export function initConnectedApps(): void {
  const section = document.getElementById('connected-apps-section');
  if (!section) return;
  section.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action="disconnect"]');
    const item = button?.closest<HTMLElement>('[data-client-id]');
    if (!button || !item) return;
    const clientId = item.dataset['clientId'] ?? '';
    const name = item.querySelector('.item-title')?.textContent ?? clientId;
    messages.clear();
    void busy(button, 'Disconnecting…', async () => {
      await api('DELETE', `/api/v1/connected-apps/${encodeURIComponent(clientId)}`);
      // Our own server's escaped template output (src/http/pages/connected-apps.ts).
      section.innerHTML = await fetchFragment('connected-apps');
      localizeTimes(section);
    }).then(
      () => messages.status(`${name} is disconnected. It has to ask again to use your account.`),
      (error: unknown) =>
        messages.error(
          error instanceof ApiError && error.status === 401
            ? 'You have been signed out. Sign in again to continue.'
            : error instanceof Error
              ? error.message
              : String(error),
        ),
    );
  });
}
