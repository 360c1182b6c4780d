import { api } from './api.ts';
import { busy, byId, messages } from './dom.ts';

/**
 * The consent page (src/http/pages/interaction.ts): Allow or Deny goes to the server as JSON,
 * which answers where to go next (back to the app, through the provider).
 */
export function initConsent(): void {
  const uid = document.body.dataset['uid'] ?? '';
  const allow = byId<HTMLButtonElement>('consent-allow');
  const deny = byId<HTMLButtonElement>('consent-deny');
  const decide = async (decision: 'allow' | 'deny', button: HTMLButtonElement): Promise<void> => {
    messages.clear();
    allow.disabled = true;
    deny.disabled = true;
    try {
      const { redirectTo } = await busy(button, decision === 'allow' ? 'Allowing…' : 'Denying…', () =>
        api<{ redirectTo: string }>('POST', `/interaction/${encodeURIComponent(uid)}/consent`, { decision }),
      );
      window.location.assign(redirectTo);
    } catch (error) {
      allow.disabled = false;
      deny.disabled = false;
      messages.error(error instanceof Error ? error.message : String(error));
    }
  };
  allow.addEventListener('click', () => void decide('allow', allow));
  deny.addEventListener('click', () => void decide('deny', deny));
}
