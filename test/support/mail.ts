import assert from 'node:assert/strict';
import type { StoredMessage } from '../../src/ports/mail.ts';
import type { TestServer } from './server.ts';

/**
 * The newest development-mailbox message for `to` whose subject matches, waiting for the mail
 * worker. Other mail (security notices, new-device alerts) may arrive in any order around it.
 */
export async function mailMatching(
  server: TestServer,
  to: string,
  subject: RegExp,
  body: RegExp = /./,
): Promise<StoredMessage> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = (await server.services.stores.devMailbox.list({ to, limit: 20 })).find(
      (message) => subject.test(message.subject) && body.test(message.text),
    );
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no mail "${subject}" / "${body}" for ${to}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The token of the `<origin><path>#token=…` link in a message. */
export function tokenIn(message: StoredMessage, path: string): string {
  const token = new RegExp(`${path}#token=([A-Za-z0-9_-]{43})`).exec(message.text)?.[1];
  assert.ok(token, `a ${path} link in "${message.subject}"`);
  return token;
}

/** The whole `<origin><path>#token=…` link in a message. */
export function linkIn(message: StoredMessage, path: string): string {
  const link = new RegExp(`https?://[^\\s/]+${path}#token=[A-Za-z0-9_-]{43}`).exec(message.text)?.[0];
  assert.ok(link, `a ${path} link in "${message.subject}"`);
  return link;
}
