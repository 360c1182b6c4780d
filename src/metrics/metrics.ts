import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { PublishedAuditEvent } from '../domain/audit/audit-recorder.ts';

/** The route label of requests no route answered (404s): the raw path would make labels unbounded. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * Request latency buckets in seconds: session checks answer in about a millisecond, password
 * sign-ins wait for argon2 (tens of milliseconds, more under a storm), so the buckets span both.
 */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

let processRegistry: Registry | undefined;

/**
 * CPU, memory, event-loop delay, GC and open handles describe the process, not one instance:
 * collected once per process (each collection starts an event-loop monitor and a GC observer
 * that nothing could release), however many instances it runs, and shared by their scrapes.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Prometheus metrics of one Gatehouse instance (docs/operations.md#metrics). Only built when
 * `metricsToken` is set: without it nothing is counted, so requests pay nothing for it.
 *
 * Every label is bounded: routes are the registered patterns (`/api/v1/sessions/:id`, never an
 * id), audit events their type and outcome (a fixed list). Nothing personal is ever a label: no
 * address, user id or IP.
 *
 * Each instance counts in its own registry, so several instances can live in one process
 * (tests); the process's own metrics are shared (processMetrics).
 */
export class Metrics {
  readonly #registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #duration: Histogram<'method' | 'route'>;
  readonly #auditEvents: Counter<'type' | 'outcome'>;

  constructor() {
    this.#requests = new Counter({
      name: 'gatehouse_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [this.#registry],
    });
    this.#duration = new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'Time from the request to its answer, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers: [this.#registry],
    });
    this.#auditEvents = new Counter({
      name: 'gatehouse_audit_events_total',
      help: 'Security events recorded in the audit log (docs/audit-events.md), by type and outcome: sign-ins, failures, refusals, step-ups, credential changes.',
      labelNames: ['type', 'outcome'],
      registers: [this.#registry],
    });
  }

  /** One answered request; `started` is a performance.now() reading taken when it arrived. */
  observeRequest(method: string, route: string, status: number, started: number): void {
    this.#requests.inc({ method, route, status: String(status) });
    this.#duration.observe({ method, route }, (performance.now() - started) / 1000);
  }

  /** An audit subscriber (AuditRecorder.subscribe): counts every recorded event. */
  readonly onAuditEvent = async (event: PublishedAuditEvent): Promise<void> => {
    this.#auditEvents.inc({ type: event.type, outcome: event.outcome });
  };

  /** The exposition in Prometheus' text format, and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    const merged = Registry.merge([processMetrics(), this.#registry]);
    return { body: await merged.metrics(), contentType: merged.contentType };
  }
}
