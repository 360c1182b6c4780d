import { initAdminAudit } from './admin-audit.ts';
import { initAdminClients } from './admin-clients.ts';
import { initAdminUsers } from './admin-users.ts';

/**
 * The admin page (src/http/pages/admin.ts). Every panel speaks to the admin API, which checks
 * the administrator on each call; a change made in one panel shows up at once in the audit log.
 */
export function initAdmin(): void {
  const audit = initAdminAudit();
  initAdminUsers({ changed: () => audit.reload(), showEvents: (userId) => audit.filterByUser(userId) });
  initAdminClients({ changed: () => audit.reload() });
}
