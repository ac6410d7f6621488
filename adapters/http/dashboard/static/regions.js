// Parts of a page marked `data-live="URL"` are fetched again when the stream names what they show: at most once
// a second, after the newest event seen, and swapped in whole (server-rendered and escaped; no script runs).

import { authorization, parseFragment } from "./common.js";
import { positionOf } from "./stream.js";

const EVERY = 1000;

export function regions() {
  const live = [...document.querySelectorAll("[data-live]")].map((el) => ({ id: el.id, dirty: false, busy: false, last: 0 }));
  let newest = 0;

  const refresh = async (region) => {
    const el = document.getElementById(region.id);
    if (!el || region.busy) return;
    region.busy = true;
    region.dirty = false;
    region.last = Date.now();
    const url = el.dataset.live;
    try {
      const response = await fetch(`${url}${url.includes("?") ? "&" : "?"}after=${newest}`, { headers: authorization() });
      // A part refused as asked (422: a time range that cannot be read) comes rendered, saying why: shown as is.
      const said = response.status === 422 && (response.headers.get("content-type") || "").startsWith("text/html");
      if (!response.ok && !said) throw new Error(`${url}: ${response.status}`);
      const fresh = parseFragment(await response.text());
      const open = [...el.querySelectorAll("details")].map((d) => d.open);
      fresh.querySelectorAll("details").forEach((d, n) => {
        if (open[n]) d.open = true;
      });
      el.replaceWith(fresh);
      document.body.dataset.refreshed = String(newest);
    } catch (error) {
      region.dirty = true;
      console.warn(error);
    } finally {
      region.busy = false;
      if (region.dirty) later(region);
    }
  };

  const later = (region) => {
    setTimeout(() => refresh(region), Math.max(EVERY - (Date.now() - region.last), 50));
  };

  const wants = (el, data) => {
    if (el.dataset.liveTask !== undefined) return data.subject_kind === "task" && data.subject === el.dataset.liveTask;
    return (el.dataset.liveKinds || "task agent").split(" ").includes(data.subject_kind);
  };

  return {
    /** Refresh every region now (after an action of this page). */
    refreshAll() {
      for (const region of live) refresh(region);
    },
    onEvent(kind, data, id) {
      newest = Math.max(newest, positionOf(id));
      for (const region of live) {
        const el = document.getElementById(region.id);
        if (!el || !wants(el, data) || region.dirty) continue;
        region.dirty = true;
        if (!region.busy) later(region);
      }
    },
    bump(position) {
      newest = Math.max(newest, position);
    },
  };
}
