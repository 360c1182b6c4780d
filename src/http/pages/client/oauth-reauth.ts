import { api } from './api.ts';
import { busy, byId, messages } from './dom.ts';
import { reauthenticate, StepUpCancelled } from './step-up.ts';

/**
 * The OAuth provider's re-authentication page (src/http/pages/interaction.ts): an app asked for
 * a fresh or stronger sign-in. The step-up prompt opens at once; once it succeeds the
 * interaction is loaded again, and the server finishes the login step and sends the browser
 * back to the app. Cancel tells the app the user did not re-authenticate.
 */
export function initOAuthReauth(): void {
  const uid = document.body.dataset['uid'] ?? '';
  const requirement = JSON.parse(document.body.dataset['requirement'] ?? '{}') as Record<string, unknown>;
  const proceed = byId<HTMLButtonElement>('reauth-continue');
  const cancel = byId<HTMLButtonElement>('reauth-cancel');
  const interaction = `/interaction/${encodeURIComponent(uid)}`;

  const confirm = async (): Promise<void> => {
    messages.clear();
    try {
      await reauthenticate(requirement);
      window.location.assign(interaction);
    } catch (error) {
      if (!(error instanceof StepUpCancelled))
        messages.error(error instanceof Error ? error.message : String(error));
    }
  };
  proceed.addEventListener('click', () => void confirm());
  cancel.addEventListener('click', async () => {
    messages.clear();
    try {
      const { redirectTo } = await busy(cancel, 'Cancelling…', () =>
        api<{ redirectTo: string }>('POST', `${interaction}/abandon`, {}),
      );
      window.location.assign(redirectTo);
    } catch (error) {
      messages.error(error instanceof Error ? error.message : String(error));
    }
  });
  void confirm();
}
