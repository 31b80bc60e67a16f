import type { MetricsCollector } from '@converge/observability';

/** The metric updates a `NatsTransport` makes (no-ops without a collector). */
export interface Instruments {
  /** `converge_transport_dropped_total{transport="nats",reason}`. */
  dropped(reason: 'queue_full' | 'malformed' | 'stopped' | 'publish_failed', n: number): void;
  /** `converge_transport_nats_events_total{event}` (connection status events). */
  event(type: string): void;
}

/** Creates the instruments on `metrics` (get-or-create, so several transports share them). */
export function createInstruments(metrics: MetricsCollector | undefined): Instruments {
  if (!metrics) return { dropped: () => {}, event: () => {} };
  const dropped = metrics.counter(
    'converge_transport_dropped_total',
    'Messages a transport discarded (overflow under drop-oldest, queued at stop)',
    ['transport', 'reason'],
  );
  const events = metrics.counter('converge_transport_nats_events_total', 'NATS connection status events by type', ['event']);
  return {
    dropped: (reason, n) => dropped.inc({ transport: 'nats', reason }, n),
    event: (type) => events.inc({ event: type }),
  };
}
