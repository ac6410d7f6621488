// The dashboard's one script: follows the event stream and keeps the page up to date without a reload.

import { actions, session } from "./actions.js";
import { board } from "./board.js";
import { regions } from "./regions.js";
import { follow } from "./stream.js";

const TICK = 5000;
const body = document.body;
const state = document.getElementById("live-state");
const words = { open: "live", reconnecting: "reconnecting…", lost: "connection lost: resuming…" };

session();
const parts = regions();
const grid = document.getElementById("board");
const cards = grid ? board(grid) : null;
actions(() => parts.refreshAll());

window.dashboard = { received: 0, board: cards?.stats };
if (body.dataset.position !== undefined) {
  const stream = follow(body.dataset.position, (body.dataset.kinds || "").split(" "), (kind, data, id) => {
    window.dashboard.received += 1;
    body.dataset.lastEvent = id;
    cards?.onEvent(kind, data, id);
    parts.onEvent(kind, data, id);
  }, (now) => {
    body.dataset.live = now;
    if (state) state.textContent = words[now] || now;
  });
  window.dashboard.stream = stream;
}

setInterval(() => {
  if (!document.hidden) cards?.tick();
}, TICK);
// Ready once the page (the board's cards drawn) is laid out for its first frame.
requestAnimationFrame(() => {
  body.dataset.readyAt = String(Math.round(performance.now()));
  body.dataset.ready = "yes";
});
