// Shared by the dashboard's modules: the coordinator's clock, durations in words, the token, fetching parts.

const TOKEN_KEY = "coordinator-token";
const serverNow = Date.parse(document.body.dataset.now || "") || Date.now();
const offset = serverNow - Date.now();

/** The coordinator's current time in milliseconds (its clock, moving on with the browser's). */
export function now() {
  return Date.now() + offset;
}

/** A duration in words, as the server writes it: 45s, 12m 30s, 2h 05m, 3d 4h. */
export function span(seconds) {
  const whole = Math.floor(Math.abs(seconds));
  const days = Math.floor(whole / 86400);
  const hours = Math.floor((whole % 86400) / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  const two = (n) => String(n).padStart(2, "0");
  if (days) return `${days}d ${hours}h`;
  if (hours) return `${hours}h ${two(minutes)}m`;
  if (minutes) return `${minutes}m ${two(secs)}s`;
  return `${secs}s`;
}

/** The bearer header for the token this tab signed in with (none when it did not). */
export function authorization() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export function rememberToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Parse server-rendered (escaped) HTML into nodes of this document; scripts in it never run. */
export function parseFragment(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  return document.adoptNode(parsed.body.firstElementChild || parsed.createElement("div"));
}
