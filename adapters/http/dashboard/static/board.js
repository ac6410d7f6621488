// The board: the server sends its cards as JSON (one array per card, `board.ROW` on the server); this draws them
// by cloning a card skeleton and setting text as text (never as markup). Live, the cards of the tasks the stream names are fetched again in batches (at most every FLUSH ms) and
// moved to their level's column, or to the done list.

import { authorization, now, span } from "./common.js";
import { positionOf } from "./stream.js";

const FLUSH = 150;
const BATCH = 2000;
const BLOCK = 100;
const ACTIVITY = 50;
const MARKED = 20;

const skeleton = (() => {
  const card = document.createElement("article");
  const link = document.createElement("a");
  link.className = "title";
  const badge = document.createElement("p");
  badge.className = "badge";
  const meta = document.createElement("p");
  meta.className = "meta";
  card.append(link, badge, meta);
  return card;
})();

const at = (text) => (text ? Date.parse(text) : Number.NaN);

/** A card's meta line: its agent, time in level (once it has changed level) and deadline countdown. */
function metaText(entry, moment) {
  const [, agent, level] = entry.row;
  let deadline = "no deadline";
  if (!Number.isNaN(entry.deadline)) {
    const left = (entry.deadline - moment) / 1000;
    deadline = left > 0 ? `due in ${span(left)}` : `overdue by ${span(left)}`;
  }
  const since = Number.isNaN(entry.since) ? "" : ` · ${span((moment - entry.since) / 1000)} in ${level}`;
  return `${agent || "no agent"}${since} · ${deadline}`;
}

/** A card and what the board keeps of it, from its row: [task, agent, level, emergency, status, deadline,
 * acknowledged by, in level since, gone]. */
export function renderCard(row, moment = now()) {
  const [task, , level, emergency, , deadline, ackBy, since] = row;
  const card = skeleton.cloneNode(true);
  card.className = emergency ? `card lv-${level} emergency` : `card lv-${level}`;
  card.dataset.task = task;
  const [link, badge, meta] = card.children;
  link.textContent = task;
  link.href = `/tasks/${encodeURIComponent(task)}`;
  badge.textContent = emergency ? `${level} · EMERGENCY` : level;
  const entry = { row, card, meta, since: at(since), deadline: at(deadline) };
  meta.textContent = metaText(entry, moment);
  if (ackBy) {
    const ack = document.createElement("p");
    ack.className = "ack";
    ack.textContent = `✓ acknowledged by ${ackBy}`;
    card.append(ack);
  }
  return entry;
}

const columnOf = (row) => (row[4] === "open" ? row[2] : "done");
/** Board order within a column: EMERGENCY first, then by task id. */
const before = (a, b) => (a[3] !== b[3] ? a[3] : a[0] < b[0]);

export function board(root) {
  const filters = { agent: root.dataset.agent, level: root.dataset.level, q: (root.dataset.q || "").toLowerCase() };
  const columns = new Map([...document.querySelectorAll(".cards[data-column]")].map((el) => [el.dataset.column,
    { el, blocks: [], count: 0 }]));
  const entries = new Map();
  const pending = new Set();
  const activity = document.getElementById("activity");
  const feed = [];
  const stats = { flushes: 0, cards: 0 };
  let newest = 0;
  let timer = null;
  let busy = false;

  const keeps = (row) =>
    (!filters.agent || row[1] === filters.agent) &&
    (!filters.level || row[4] !== "open" || row[2] === filters.level) &&
    (!filters.q || row[0].toLowerCase().includes(filters.q));

  // A column's cards sit in blocks of about BLOCK cards; the browser skips laying out and painting the blocks out
  // of sight (`content-visibility` on a hundred blocks rather than on ten thousand cards).
  const newBlock = () => {
    const block = document.createElement("div");
    block.className = "block";
    return block;
  };
  const rowOf = (card) => entries.get(card.dataset.task).row;

  const insert = (column, entry) => {
    const { blocks } = column;
    let low = 0;
    let high = blocks.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (before(rowOf(blocks[middle].lastElementChild), entry.row)) low = middle + 1;
      else high = middle;
    }
    if (blocks.length === 0) {
      blocks.push(newBlock());
      column.el.append(blocks[0]);
    }
    const block = blocks[Math.min(low, blocks.length - 1)];
    const children = block.children;
    let first = 0;
    let last = children.length;
    while (first < last) {
      const middle = (first + last) >> 1;
      if (before(rowOf(children[middle]), entry.row)) first = middle + 1;
      else last = middle;
    }
    block.insertBefore(entry.card, children[first] || null);
    column.count += 1;
    if (children.length > 2 * BLOCK) {
      const half = newBlock();
      while (children.length > BLOCK) half.prepend(block.lastElementChild);
      block.after(half);
      blocks.splice(blocks.indexOf(block) + 1, 0, half);
    }
  };

  const remove = (entry) => {
    const block = entry.card.parentElement;
    const column = columns.get(block?.closest(".cards")?.dataset.column);
    entry.card.remove();
    if (!column) return;
    column.count -= 1;
    if (block.children.length === 0) {
      block.remove();
      column.blocks.splice(column.blocks.indexOf(block), 1);
    }
  };

  const place = (entry, mark) => {
    const task = entry.row[0];
    const old = entries.get(task);
    if (old) {
      remove(old);
      entries.delete(task);
    }
    const column = columns.get(columnOf(entry.row));
    if (entry.row[8] || !column || !keeps(entry.row)) return;
    entries.set(task, entry);
    insert(column, entry);
    if (mark) entry.card.classList.add("fresh");
  };

  const counts = () => {
    let open = 0;
    for (const [name, column] of columns) {
      const count = column.el.closest("section, details")?.querySelector(".count");
      if (count) count.textContent = String(column.count);
      if (name !== "done") open += column.count;
    }
    const total = document.getElementById("open-count");
    if (total) total.textContent = String(open);
  };

  /** Draw the server's cards (in their order) in blocks of BLOCK cards. */
  const draw = (rows) => {
    const moment = now();
    for (const row of rows) {
      const column = columns.get(columnOf(row));
      if (!column || row[8]) continue;
      let block = column.blocks[column.blocks.length - 1];
      if (!block || block.children.length >= BLOCK) {
        block = newBlock();
        column.blocks.push(block);
        column.el.append(block);
      }
      const entry = renderCard(row, moment);
      block.append(entry.card);
      entries.set(row[0], entry);
      column.count += 1;
    }
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
      const rows = await response.json();
      const started = performance.now();
      const moment = now();
      // A few moved cards are marked for a moment; a burst of them is not (it would cost every frame a repaint).
      for (const row of rows) place(renderCard(row, moment), rows.length <= MARKED);
      counts();
      performance.measure("board-flush", { start: started });
      stats.flushes += 1;
      stats.cards += rows.length;
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
    for (const line of feed.splice(0, feed.length)) {
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

  draw(JSON.parse(document.getElementById("board-cards")?.textContent || "[]"));
  performance.mark("cards-drawn");

  return {
    stats,
    /** Rewrite every card's time in level and countdown for the current time. */
    tick() {
      const moment = now();
      for (const entry of entries.values()) entry.meta.textContent = metaText(entry, moment);
    },
    onEvent(kind, data, id) {
      newest = Math.max(newest, positionOf(id));
      if (data.subject_kind === "task") {
        pending.add(data.subject);
        schedule();
      }
      if (!activity) return;
      feed.push({ kind, id, text: summary(kind, data) });
      if (feed.length > ACTIVITY) feed.splice(0, feed.length - ACTIVITY);
      if (!painting) {
        painting = true;
        requestAnimationFrame(paintActivity);
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
