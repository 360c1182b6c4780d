import { api } from './api.ts';
import { run } from './admin-report.ts';
import { byId, el, localTime, messages } from './dom.ts';
import { withStepUp } from './step-up.ts';

/** An account as GET /api/v1/admin/users answers it. */
interface AdminUser {
  id: string;
  email: string;
  emailVerified: boolean;
  displayName: string | null;
  createdAt: number;
  disabledAt: number | null;
}

interface Disabled {
  user: AdminUser;
  sessionsRevoked: number;
  oauthRevoked: number;
}

export interface UserHooks {
  /** An account changed: the audit table shows the new event. */
  changed(): void;
  /** "Show events": the audit table filtered to this account. */
  showEvents(userId: string): void;
}

const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

function fact(term: string, ...value: Array<Node | string>): Node[] {
  return [el('dt', {}, term), el('dd', {}, ...value)];
}

function userCard(user: AdminUser): HTMLElement {
  const disabled = user.disabledAt !== null;
  return el(
    'div',
    { class: 'user-card', id: 'user-card', 'data-user-id': user.id, 'data-disabled': String(disabled) },
    el(
      'p',
      { class: 'item-title' },
      user.email,
      ' ',
      el(
        'span',
        { class: disabled ? 'badge badge-danger' : 'badge badge-ok', id: 'user-state' },
        disabled ? 'Disabled' : 'Enabled',
      ),
    ),
    el(
      'dl',
      { class: 'facts' },
      ...fact('Id', el('code', {}, user.id)),
      ...fact('Email address', user.emailVerified ? 'Verified' : 'Not verified'),
      ...(user.displayName ? fact('Display name', user.displayName) : []),
      ...fact('Created', localTime(user.createdAt)),
      ...fact('Disabled', user.disabledAt === null ? 'No' : localTime(user.disabledAt)),
    ),
    el(
      'div',
      { class: 'actions' },
      disabled
        ? el(
            'button',
            { type: 'button', class: 'button button-secondary', 'data-action': 'enable' },
            'Enable account',
          )
        : el(
            'button',
            { type: 'button', class: 'button button-danger', 'data-action': 'disable' },
            'Disable account',
          ),
      el(
        'button',
        { type: 'button', class: 'button button-danger', 'data-action': 'delete' },
        'Delete account',
      ),
      el(
        'button',
        { type: 'button', class: 'button button-link', 'data-action': 'events' },
        'Show its events',
      ),
    ),
  );
}

/** The Users panel: find an account by address, disable, enable or delete it (step-up when due). */
export function initAdminUsers(hooks: UserHooks): void {
  const form = byId<HTMLFormElement>('user-search');
  const input = byId<HTMLInputElement>('user-email');
  const result = byId('user-result');
  let shown: AdminUser | null = null;

  const show = (user: AdminUser): void => {
    shown = user;
    result.replaceChildren(userCard(user));
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const email = input.value.trim();
    if (!email) {
      input.setAttribute('aria-invalid', 'true');
      messages.error('Enter the email address of the account to find.');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    const found = await run(form.querySelector('button'), 'Finding…', () =>
      api<{ users: AdminUser[] }>('GET', `/api/v1/admin/users?${new URLSearchParams({ email })}`),
    );
    if (!found) return;
    const [user] = found.users;
    if (user) return show(user);
    shown = null;
    result.replaceChildren(
      el('p', { class: 'empty', id: 'user-none' }, `No account has the address ${email}.`),
    );
  });
  input.addEventListener('input', () => input.removeAttribute('aria-invalid'));

  result.addEventListener('click', async (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
    const user = shown;
    if (!button || !user) return;
    const path = `/api/v1/admin/users/${encodeURIComponent(user.id)}`;
    switch (button.dataset['action']) {
      case 'events':
        hooks.showEvents(user.id);
        return;
      case 'disable': {
        const question = `Disable ${user.email}? It is signed out everywhere at once, and every app it allowed loses access.`;
        if (!window.confirm(question)) return;
        const done = await run(button, 'Disabling…', () =>
          withStepUp(() => api<Disabled>('POST', `${path}/disable`, {})),
        );
        if (!done) return;
        show(done.user);
        messages.status(
          `${done.user.email} is disabled: ${plural(done.sessionsRevoked, 'session', 'sessions')} ended, ${plural(done.oauthRevoked, 'OAuth grant, code or token', 'OAuth grants, codes and tokens')} revoked.`,
        );
        hooks.changed();
        return;
      }
      case 'delete': {
        const question = `Delete ${user.email}? Its passkeys, password, sessions and connected apps go for good; the audit log keeps its events.`;
        if (!window.confirm(question)) return;
        const done = await run(button, 'Deleting…', () =>
          withStepUp(() => api<{ user: AdminUser; oauthRevoked: number }>('DELETE', path)),
        );
        if (!done) return;
        shown = null;
        result.replaceChildren(
          el('p', { class: 'empty', id: 'user-deleted' }, `${done.user.email} was deleted.`),
        );
        messages.status(
          `${done.user.email} is deleted, with ${plural(done.oauthRevoked, 'OAuth grant, code or token', 'OAuth grants, codes and tokens')}.`,
        );
        hooks.changed();
        return;
      }
      case 'enable': {
        const done = await run(button, 'Enabling…', () =>
          withStepUp(() => api<{ user: AdminUser }>('POST', `${path}/enable`, {})),
        );
        if (!done) return;
        show(done.user);
        messages.status(`${done.user.email} is enabled: it can sign in again.`);
        hooks.changed();
        return;
      }
    }
  });
}
