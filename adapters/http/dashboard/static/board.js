// The board, live: cards of the tasks the stream names are fetched again (in batches, at most every FLUSH ms)
// and moved to their level's column, or to the done list.

import { authorization, parseFragment, tick } from "./common.js";
import { positionOf } from "./stream.js";

const FLUSH = 150;
const BATCH = 2000;
const ACTIVITY = 30;
const RANK = { 1: 0, 0: 1 };

export function board(root) {
  const filters = { agent: root.dataset.agent, level: root.dataset.level, q: (root.dataset.q || "").toLowerCase() };
  const columns = new Map([...document.querySelectorAll(".cards[data-column]")].map((el) => [el.dataset.column, el]));
  const cards = new Map([...document.querySelectorAll(".card[data-task]")].map((el) => [el.dataset.task, el]));
  const pending = new Set();
  const activity = document.getElementById("activity");
  const feed = [];
  let newest = 0;
  let timer = null;
  let busy = false;
  const stats = { flushes: 0, cards: 0 };

  const keeps = (card) =>
    (!filters.agent || card.dataset.agent === filters.agent) &&
    (!filters.level || card.dataset.level === filters.level) &&
    (!filters.q || card.dataset.task.toLowerCase().includes(filters.q));

  const before = (a, b) => {
    const ra = RANK[a.dataset.emergency] ?? 1;
    const rb = RANK[b.dataset.emergency] ?? 1;
    return ra !== rb ? ra < rb : a.dataset.task < b.dataset.task;
  };

  const insert = (column, card) => {
    const children = column.children;
    let low = 0;
    let high = children.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (before(children[middle], card)) low = middle + 1;
      else high = middle;
    }
    column.insertBefore(card, children[low] || null);
  };

  const place = (card) => {
    const task = card.dataset.task;
    const old = cards.get(task);
    const column = card.dataset.status === "open" ? columns.get(card.dataset.level) : columns.get("done");
    if (old) old.remove();
    cards.delete(task);
    if (card.dataset.gone || !column || !keeps(card)) return;
    insert(column, card);
    cards.set(task, card);
    card.classList.add("fresh");
  };

  const counts = () => {
    let open = 0;
    for (const [name, column] of columns) {
      const count = column.closest("section, details")?.querySelector(".count");
      if (count) count.textContent = String(column.children.length);
      if (name !== "done") open += column.children.length;
    }
    const total = document.getElementById("open-count");
    if (total) total.textContent = String(open);
  };

  const flush = async () => {
    timer = null;
    if (busy || pending.size === 0) return;
    const ids = [];
    for (const id of pending) {
      ids.push(id);
      pending.delete(id);
      if (ids.length === BATCH) break;
    }
    busy = true;
    try {
      const response = await fetch("/fragments/cards", {
        method: "POST",
        headers: { "content-type": "application/json", ...authorization() },
        body: JSON.stringify({ ids, after: newest }),
      });
      if (!response.ok) throw new Error(`cards: ${response.status}`);
      const fresh = parseFragment(await response.text());
      const found = new Set();
      for (const card of [...fresh.children]) {
        found.add(card.dataset.task);
        place(card);
      }
      counts();
      tick(fresh);
      stats.flushes += 1;
      stats.cards += found.size;
      document.body.dataset.flushed = String(newest);
    } catch (error) {
      for (const id of ids) pending.add(id);
      console.warn(error);
    } finally {
      busy = false;
      if (pending.size) schedule();
    }
  };

  const schedule = () => {
    if (timer === null && !busy) timer = setTimeout(flush, FLUSH);
  };

  let painting = false;
  const paintActivity = () => {
    painting = false;
    const shown = feed.splice(0, feed.length).slice(-ACTIVITY);
    for (const line of shown) {
      const item = document.createElement("li");
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = line.kind;
      item.append(kind, ` ${line.text}`);
      item.dataset.id = line.id;
      activity.prepend(item);
    }
    while (activity.children.length > ACTIVITY) activity.lastElementChild.remove();
  };

  return {
    stats,
    onEvent(kind, data, id) {
      newest = Math.max(newest, positionOf(id));
      if (data.subject_kind === "task") {
        pending.add(data.subject);
        schedule();
      }
      if (activity) {
        feed.push({ kind, id, text: summary(kind, data) });
        if (feed.length > ACTIVITY) feed.splice(0, feed.length - ACTIVITY);
        if (!painting) {
          painting = true;
          requestAnimationFrame(paintActivity);
        }
      }
    },
  };
}

/** A line about an event, for the activity list (plain text: it is set with textContent). */
export function summary(kind, data) {
  const about = `${data.subject_kind} ${data.subject}`;
  switch (kind) {
    case "AlertReceived":
      return `${about}: ${data.alert_type}${data.alert?.description ? ` — ${data.alert.description}` : ""}`;
    case "Escalated":
    case "DeEscalated":
      return `${about}: ${data.from_level} → ${data.to_level}${data.emergency ? " · EMERGENCY" : ""} (${data.reason})`;
    case "NotificationRequested":
      return `${about}: ${data.kind} to ${data.recipient}`;
    case "NotificationDelivered":
      return `${about}: ${data.key} delivered via ${data.channel}`;
    case "DeliveryFailed":
      return `${about}: ${data.key} failed via ${data.channel}${data.dead ? " (dead)" : ""}`;
    case "Acknowledged":
      return `${about}: acknowledged by ${data.by}`;
    case "Resolved":
      return `${about}: resolved${data.by ? ` by ${data.by}` : ""}`;
    case "Reassigned":
      return `${about}: ${data.from_agent} → ${data.to_agent}`;
    default:
      return about;
  }
}
