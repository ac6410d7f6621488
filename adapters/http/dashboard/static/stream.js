// Follows the event stream: EventSource on the API's stream, resumed from the last event seen.

const STREAM = "/api/v1/events/stream";

/**
 * Open the stream after `position` and call `onEvent(kind, data, id)` for each event. The browser resends
 * Last-Event-ID when it reconnects by itself; when the stream is closed for good (the service restarted, a
 * network error), it is opened again after the last event id seen. So nothing is missed and nothing is seen twice.
 */
export function follow(position, kinds, onEvent, onState) {
  let last = String(position);
  let source = null;
  let retry = 500;
  const seen = (event) => {
    if (!event.lastEventId) return;
    last = event.lastEventId;
    retry = 500;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    onEvent(event.type, data, last);
  };
  const open = () => {
    source = new EventSource(`${STREAM}?after=${encodeURIComponent(last)}`);
    for (const kind of kinds) source.addEventListener(kind, seen);
    source.addEventListener("open", () => onState("open"));
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        onState("lost");
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 10000);
      } else {
        onState("reconnecting");
      }
    });
  };
  open();
  return {
    /** The id of the last event seen. */
    get last() {
      return last;
    },
    /** Drop the connection and open it again from the last event seen (as after a network failure). */
    drop() {
      source.close();
      onState("lost");
      setTimeout(open, 50);
    },
  };
}

/** The store position of an event id (`12.1` is the second event recorded at position 12). */
export function positionOf(id) {
  return Number.parseInt(String(id).split(".")[0], 10) || 0;
}
