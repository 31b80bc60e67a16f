import type net from 'node:net';
import type WebSocket from 'ws';
import type { ConnectionMeter, InboundBudget } from '@converge/network/internal';
import type { NetInstruments } from '@converge/network/internal';

// Header of a masked control frame (ping, pong) from a client: 2 bytes + 4-byte mask (payload <= 125).
const MASKED_CONTROL_HEADER_BYTES = 6;

/**
 * Meters what `ws` holds for a server connection's unfinished WebSocket message against the
 * transport's `InboundBudget` (see there), so that WebSocket and TCP share one budget and one
 * slow-frame sweep.
 *
 * `ws` gives no view of a message it is still assembling, so the held bytes are counted from
 * the raw socket: every byte read since the last complete message (WS framing included),
 * less the ping and pong frames (which `ws` consumes whole). A first `data` listener, run
 * before the one of `ws`, adds each read; a complete message resets the count; a last
 * listener, run after `ws` has parsed the read, reports to the meter. The tail of a read that
 * also completed a message (at most one socket read) is not counted.
 *
 * On a violation the socket is destroyed and the reason counted (`over_budget`, `slow`).
 * `limit` is the connection's budget (before authentication: the small pre-auth limit; raise
 * it with `setLimit` once the client has proved its key).
 */
export function meterWsConnection(
  ws: WebSocket,
  socket: net.Socket,
  budget: InboundBudget,
  instruments: NetInstruments,
  remote: string,
  limit?: number,
): ConnectionMeter {
  let pending = 0;
  let chunk = 0;
  let done = false;
  const meter = budget.open((v) => {
    instruments.rejected(v.reason, { remote, direction: 'inbound', ...v.detail });
    socket.destroy();
  }, limit);
  socket.prependListener('data', (c: Buffer) => {
    pending += c.byteLength;
    chunk = c.byteLength;
    done = false;
  });
  ws.on('message', () => {
    pending = 0;
    done = true;
  });
  const control = (data: Buffer): void => {
    pending = Math.max(0, pending - (data.byteLength + MASKED_CONTROL_HEADER_BYTES));
  };
  ws.on('ping', control);
  ws.on('pong', control);
  socket.on('data', () => {
    if (!socket.destroyed) meter.update(pending, chunk, done);
  });
  socket.once('close', () => meter.close());
  return meter;
}
