// Live updates. Preferred: the server-sent event stream /v1/events/stream, read with fetch() so
// the token travels in the Authorization header (EventSource cannot send one, and a token in a
// URL would end up in logs). When the stream cannot be opened or drops, the page polls every
// POLL_MS and tries the stream again after RETRY_MS. While streaming, a slow refresh every
// SAFETY_MS catches anything an event did not describe (e.g. changes made on another instance).
import { authHeaders } from './api.js';

export const POLL_MS = 2000;
const RETRY_MS = 10000;
const SAFETY_MS = 30000;

/** Splits a text/event-stream body into { event, data } messages (comments and ids ignored). */
async function readEvents(body, onMessage, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  signal.addEventListener('abort', () => reader.cancel().catch(() => {}), { once: true });
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let event = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
      }
      if (data.length > 0) {
        let parsed;
        try {
          parsed = JSON.parse(data.join('\n'));
        } catch {
          parsed = null;
        }
        onMessage(event, parsed);
      }
    }
  }
}

/**
 * Starts live updates and returns stop(). Callbacks:
 * onEvent(name, data) for each streamed event; refresh() to re-read everything (on connect, on
 * every poll, on the safety timer); onMode('stream' | 'polling' | 'off'); onUnauthorized().
 */
export function startLive({ onEvent, refresh, onMode, onUnauthorized }) {
  let stopped = false;
  let controller = null;
  let pollTimer = null;
  let retryTimer = null;
  let safetyTimer = null;

  const startPolling = () => {
    if (pollTimer) return;
    onMode('polling');
    pollTimer = setInterval(refresh, POLL_MS);
  };
  const stopPolling = () => {
    clearInterval(pollTimer);
    pollTimer = null;
  };

  async function connect() {
    retryTimer = null;
    controller = new AbortController();
    try {
      const res = await fetch('/v1/events/stream', {
        headers: authHeaders({ Accept: 'text/event-stream' }),
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      if (res.status === 401) {
        onUnauthorized();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
      stopPolling();
      onMode('stream');
      refresh(); // catch up on whatever happened while not connected
      clearInterval(safetyTimer);
      safetyTimer = setInterval(refresh, SAFETY_MS);
      await readEvents(res.body, onEvent, controller.signal);
    } catch {
      // fall through: poll, and try the stream again later
    }
    clearInterval(safetyTimer);
    if (stopped) return;
    startPolling();
    retryTimer = setTimeout(connect, RETRY_MS);
  }

  connect();
  return function stop() {
    stopped = true;
    controller?.abort();
    stopPolling();
    clearTimeout(retryTimer);
    clearInterval(safetyTimer);
    onMode('off');
  };
}
