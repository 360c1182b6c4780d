import { api, needsSecondFactor, type SignedIn, type SignInResult } from './api.ts';
import { busy, byId, go, messages, showStep } from './dom.ts';
import { askSecondFactor } from './second-factor.ts';
import { browserSupportsWebAuthn, createPasskey, describePasskeyError } from './webauthn.ts';

const SNOOZE_KEY = 'gatehouse:passkey-offer-snoozed-until';
const SNOOZE_MS = 7 * 24 * 60 * 60 * 1000;

interface PasskeyList {
  passkeys: unknown[];
}

/**
 * Progressive passkey adoption: after an email sign-in, a person with no passkey is offered to
 * create one on this device. Skippable ("Not now" is remembered in this browser for a week),
 * and never offered where the browser has no WebAuthn.
 */
async function shouldOffer(result: SignedIn): Promise<boolean> {
  if (!browserSupportsWebAuthn()) return false;
  if (!result.created && Number(localStorage.getItem(SNOOZE_KEY) ?? 0) > Date.now()) return false;
  try {
    const { passkeys } = await api<PasskeyList>('GET', '/api/v1/passkeys');
    return passkeys.length === 0;
  } catch {
    return result.created === true;
  }
}

/**
 * What every email sign-in does next: the second factor when one is due, then the passkey
 * offer, or straight on to the target.
 */
export async function afterEmailSignIn(result: SignInResult, steps: HTMLElement[]): Promise<void> {
  if (needsSecondFactor(result)) return askSecondFactor(result, steps);
  const target = result.redirectTo;
  if (!(await shouldOffer(result))) return go(target);
  const offer = byId('passkey-offer');
  const create = byId<HTMLButtonElement>('offer-create');
  const skip = byId<HTMLButtonElement>('offer-skip');
  messages.status(`You're signed in as ${result.user.email}.`);
  showStep([...steps, offer], offer);
  create.addEventListener('click', async () => {
    try {
      await busy(create, 'Waiting for your device…', async () => {
        skip.disabled = true;
        try {
          await createPasskey();
        } finally {
          skip.disabled = false;
        }
      });
    } catch (error) {
      const text = describePasskeyError(error, 'create');
      if (text) messages.error(text);
      return;
    }
    localStorage.removeItem(SNOOZE_KEY);
    messages.status('Passkey created. Next time, sign in with it.');
    go(target);
  });
  skip.addEventListener('click', () => {
    localStorage.setItem(SNOOZE_KEY, String(Date.now() + SNOOZE_MS));
    go(target);
  });
}
