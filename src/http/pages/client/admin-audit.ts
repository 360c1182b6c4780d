import { api } from './api.ts';
import { report, run } from './admin-report.ts';
import { byId, el, localTime, messages } from './dom.ts';

/** An event as GET /api/v1/audit answers it (the fields this table shows). */
interface AuditEvent {
  seq: number;
  at: number;
  type: string;
  outcome: 'success' | 'failure';
  userId: string | null;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

interface AuditPage {
  events: AuditEvent[];
  nextCursor: string | null;
}

const PAGE_SIZE = '50';

export interface AuditTable {
  /** Reads the newest events again under the current filter, keeping any message on screen. */
  reload(): void;
  /** Shows one account's events. */
  filterByUser(userId: string): void;
}

/** An id that filters the table to its account when clicked. */
function idCell(id: string | null): HTMLTableCellElement {
  if (id === null) return el('td', {}, '—');
  return el(
    'td',
    {},
    el(
      'button',
      {
        type: 'button',
        class: 'button-link id-link',
        'data-filter-user': id,
        title: 'Show only this account’s events',
      },
      id,
    ),
  );
}

function row(event: AuditEvent): HTMLTableRowElement {
  const details = Object.keys(event.details).length ? JSON.stringify(event.details) : '';
  return el(
    'tr',
    { 'data-type': event.type, 'data-user-id': event.userId ?? '', 'data-seq': String(event.seq) },
    el('td', {}, localTime(event.at)),
    el(
      'td',
      {},
      el('code', {}, event.type),
      ' ',
      event.outcome === 'success'
        ? el('span', { class: 'badge badge-ok' }, 'Succeeded')
        : el('span', { class: 'badge badge-danger' }, 'Failed'),
    ),
    idCell(event.userId),
    idCell(event.actorId),
    el('td', {}, event.ip ?? '—'),
    el(
      'td',
      { class: 'details' },
      details ? el('code', {}, details) : null,
      event.userAgent ? el('span', { class: 'help user-agent' }, event.userAgent) : null,
    ),
  );
}

/**
 * A `datetime-local` value (the reader's zone) as an ISO instant, which the API takes as is;
 * empty when the field is.
 */
function instant(input: HTMLInputElement, name: string): string {
  if (!input.value) return '';
  const at = new Date(input.value);
  if (Number.isNaN(at.getTime())) throw new Error(`“${name}” is not a date and time.`);
  return at.toISOString();
}

/** The Audit log panel: newest events first, filters, and older pages through `nextCursor`. */
export function initAdminAudit(): AuditTable {
  const form = byId<HTMLFormElement>('audit-filter');
  const userId = byId<HTMLInputElement>('audit-user');
  const type = byId<HTMLSelectElement>('audit-type');
  const since = byId<HTMLInputElement>('audit-since');
  const until = byId<HTMLInputElement>('audit-until');
  const rows = byId('audit-rows');
  const empty = byId('audit-empty');
  const older = byId<HTMLButtonElement>('audit-older');
  /** The filter of the rows on screen: "older" must page through the same one. */
  let filter = new URLSearchParams();
  let cursor: string | null = null;
  /** A newer read wins over a slower earlier one. */
  let generation = 0;

  const readFilter = (): URLSearchParams => {
    const query = new URLSearchParams();
    const entries: Array<[string, string]> = [
      ['userId', userId.value.trim()],
      ['type', type.value],
      ['since', instant(since, 'From')],
      ['until', instant(until, 'Before')],
    ];
    for (const [name, value] of entries) if (value) query.set(name, value);
    return query;
  };

  const read = async (append: boolean): Promise<void> => {
    const query = new URLSearchParams(filter);
    query.set('limit', PAGE_SIZE);
    if (append && cursor) query.set('cursor', cursor);
    const mine = ++generation;
    const page = await api<AuditPage>('GET', `/api/v1/audit?${query}`);
    if (mine !== generation) return;
    if (append) rows.append(...page.events.map(row));
    else rows.replaceChildren(...page.events.map(row));
    cursor = page.nextCursor;
    older.hidden = cursor === null;
    empty.hidden = rows.childElementCount > 0;
  };

  const apply = (button: HTMLButtonElement | null): void => {
    try {
      filter = readFilter();
    } catch (error) {
      messages.error(error instanceof Error ? error.message : String(error));
      return;
    }
    void run(button, 'Loading…', () => read(false));
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply(form.querySelector('button[type="submit"]'));
  });
  byId<HTMLButtonElement>('audit-clear').addEventListener('click', () => {
    form.reset();
    apply(null);
  });
  older.addEventListener('click', () => void run(older, 'Loading…', () => read(true)));
  rows.addEventListener('click', (event) => {
    const id = (event.target as Element).closest<HTMLElement>('[data-filter-user]')?.dataset['filterUser'];
    if (id) table.filterByUser(id);
  });

  const table: AuditTable = {
    reload() {
      read(false).catch(report);
    },
    filterByUser(id) {
      userId.value = id;
      apply(null);
      form.scrollIntoView({ block: 'start' });
    },
  };
  table.reload();
  return table;
}
