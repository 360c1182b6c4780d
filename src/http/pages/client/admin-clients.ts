import { api } from './api.ts';
import { describeError, report, run } from './admin-report.ts';
import { byId, el, messages } from './dom.ts';
import { withStepUp } from './step-up.ts';

const BASE = '/api/v1/admin/oauth/clients';

/** A client as GET /api/v1/admin/oauth/clients lists it (never a secret). */
interface AdminClient {
  client_id: string;
  client_name?: string;
  redirect_uris: string[];
  grant_types: string[];
  scope: string;
  trusted?: boolean;
  token_endpoint_auth_method?: string;
  confidential: boolean;
  source: 'config' | 'cli';
}

interface Issued {
  client_id: string;
  client_secret: string | null;
}

/** Only stored, confidential clients authenticating with a secret have one to rotate. */
const rotatable = (client: AdminClient): boolean =>
  client.source === 'cli' && client.confidential && client.token_endpoint_auth_method !== 'private_key_jwt';

function clientItem(client: AdminClient): HTMLLIElement {
  const name = client.client_name ?? client.client_id;
  const meta = [`${client.client_id}`, client.grant_types.join(', '), `scope: ${client.scope}`].join(' · ');
  return el(
    'li',
    { class: 'item', 'data-client-id': client.client_id, 'data-source': client.source },
    el(
      'div',
      { class: 'item-main' },
      el(
        'p',
        { class: 'item-title' },
        name,
        ' ',
        el('span', { class: 'badge' }, client.confidential ? 'Confidential' : 'Public'),
        client.trusted ? el('span', { class: 'badge' }, 'Trusted') : null,
      ),
      el('p', { class: 'item-meta' }, meta),
      client.redirect_uris.length
        ? el('p', { class: 'item-meta' }, `Redirects to ${client.redirect_uris.join(', ')}`)
        : null,
    ),
    client.source === 'config'
      ? el('p', { class: 'help read-only' }, 'Read-only: declared in the config file')
      : el(
          'div',
          { class: 'item-actions' },
          rotatable(client)
            ? el(
                'button',
                { type: 'button', class: 'button button-small', 'data-action': 'rotate' },
                'Rotate secret',
              )
            : null,
          el(
            'button',
            { type: 'button', class: 'button button-small button-danger', 'data-action': 'remove' },
            'Remove',
          ),
        ),
  );
}

/** The fields of the add form as the API takes them; throws with a message the form can show. */
function readForm(form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form);
  const text = (name: string): string => String(data.get(name) ?? '').trim();
  const clientId = text('client_id');
  if (!clientId) throw new Error('Give the client an id.');
  const grants = data.getAll('grant_types').map(String);
  if (grants.length === 0) throw new Error('Choose at least one grant type.');
  const body: Record<string, unknown> = {
    type: text('type') || 'confidential',
    client_id: clientId,
    redirect_uris: text('redirect_uris')
      .split(/\s+/)
      .filter((uri) => uri !== ''),
    grant_types: grants,
  };
  if (text('client_name')) body['client_name'] = text('client_name');
  if (text('scope')) body['scope'] = text('scope').replace(/\s+/g, ' ');
  return body;
}

/**
 * The OAuth clients panel (present only while the provider is on): the list, removing a stored
 * client, rotating its secret, adding one. A new secret is shown once, as text, until the
 * administrator dismisses it.
 */
export function initAdminClients(hooks: { changed(): void }): void {
  if (!document.getElementById('clients-panel')) return;
  const list = byId('clients-list');
  const form = byId<HTMLFormElement>('client-add');
  const secretBox = byId('client-secret-box');
  const secretId = byId('client-secret-id');
  const secret = byId('client-secret');
  const secretDone = byId<HTMLButtonElement>('client-secret-done');

  const refresh = (): void => {
    api<{ clients: AdminClient[] }>('GET', BASE).then(
      ({ clients }) =>
        list.replaceChildren(
          clients.length
            ? el('ul', { class: 'list', id: 'clients' }, ...clients.map(clientItem))
            : el('p', { class: 'empty' }, 'No OAuth clients yet.'),
        ),
      (error: unknown) => {
        list.replaceChildren(el('p', { class: 'empty' }, 'The clients could not be loaded.'));
        report(error);
      },
    );
  };

  const showSecret = (issued: Issued): void => {
    if (!issued.client_secret) return;
    secretId.textContent = issued.client_id;
    secret.textContent = issued.client_secret;
    secretBox.hidden = false;
    secretDone.focus();
  };
  secretDone.addEventListener('click', () => {
    // The secret leaves the page once the administrator says it is saved.
    secret.textContent = '';
    secretId.textContent = '';
    secretBox.hidden = true;
  });

  list.addEventListener('click', async (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
    const clientId = button?.closest<HTMLElement>('[data-client-id]')?.dataset['clientId'];
    if (!button || !clientId) return;
    const path = `${BASE}/${encodeURIComponent(clientId)}`;
    if (button.dataset['action'] === 'rotate') {
      if (!window.confirm(`Rotate the secret of ${clientId}? The current secret stops working at once.`))
        return;
      const issued = await run(button, 'Rotating…', () =>
        withStepUp(() => api<Issued>('POST', `${path}/rotate-secret`, {})),
      );
      if (!issued) return;
      showSecret(issued);
      messages.status(`${clientId} has a new secret. The old one no longer works.`);
      hooks.changed();
    } else if (button.dataset['action'] === 'remove') {
      const question = `Remove ${clientId}? Every grant, code and token issued to it is deleted, and the app can no longer sign anyone in.`;
      if (!window.confirm(question)) return;
      const removed = await run(button, 'Removing…', async () => {
        await withStepUp(() => api('DELETE', path));
        return true;
      });
      if (!removed) return;
      messages.status(`${clientId} is removed, with every grant and token issued to it.`);
      hooks.changed();
      refresh();
    }
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let body: Record<string, unknown>;
    try {
      body = readForm(form);
    } catch (error) {
      messages.error(describeError(error));
      return;
    }
    const issued = await run(form.querySelector('button[type="submit"]'), 'Adding…', () =>
      withStepUp(() => api<Issued>('POST', BASE, body)),
    );
    if (!issued) return;
    form.reset();
    // The secret first: a failed refresh of the list must not cost the only sight of it.
    showSecret(issued);
    messages.status(
      issued.client_secret
        ? `${issued.client_id} is added. Copy its secret now: it is not shown again.`
        : `${issued.client_id} is added. It is a public client, so it has no secret.`,
    );
    hooks.changed();
    refresh();
  });

  refresh();
}
