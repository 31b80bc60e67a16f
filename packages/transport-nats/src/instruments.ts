import { noopMetrics, type Metrics } from '@converge/core';

/** The metric updates a `NatsTransport` makes (no-ops without `metrics`). */
export interface Instruments {
  /** `converge_transport_dropped_total{transport="nats",reason}`. */
  dropped(reason: 'queue_full' | 'malformed' | 'stopped' | 'publish_failed', n: number): void;
  /** `converge_transport_nats_events_total{event}` (connection status events). */
  event(type: string): void;
}

/** Creates the instruments on `metrics` (get-or-create, so several transports share them). */
export function createInstruments(metrics: Metrics = noopMetrics): Instruments {
  const dropped = metrics.counter({
    name: 'converge_transport_dropped_total',
    help: 'Messages a transport discarded (overflow under drop-oldest, queued at stop)',
    labelNames: ['transport', 'reason'],
  });
  const events = metrics.counter({ name: 'converge_transport_nats_events_total', help: 'NATS connection status events by type', labelNames: ['event'] });
  return {
    dropped: (reason, n) => dropped.inc({ transport: 'nats', reason }, n),
    event: (type) => events.inc({ event: type }),
  };
}
