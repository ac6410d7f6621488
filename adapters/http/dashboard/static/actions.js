// Ack and Resolve on a task's page, through the JSON API (with the tab's token when the service has one), and
// the sign-in form keeping the token in this tab.

import { authorization, forgetToken, rememberToken } from "./common.js";

export function actions(after) {
  const section = document.querySelector(".actions[data-task]");
  if (!section) return;
  const task = section.dataset.task;
  const result = document.getElementById("action-result");
  for (const form of section.querySelectorAll("form[data-action]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const action = form.dataset.action;
      const fields = new FormData(form);
      const body = { by: String(fields.get("by") || "").trim() };
      if (action === "resolve") body.note = String(fields.get("note") || "").trim() || null;
      const button = form.querySelector("button");
      button.disabled = true;
      result.textContent = action === "ack" ? "Acknowledging…" : "Resolving…";
      try {
        const response = await fetch(`/api/v1/tasks/${encodeURIComponent(task)}/${action}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...authorization() },
          body: JSON.stringify(body),
        });
        const answer = await response.json().catch(() => ({}));
        if (response.ok) {
          result.textContent = action === "ack" ? `Acknowledged by ${answer.acknowledged_by}.` :
            answer.changed === false ? "It was already resolved." : `Resolved by ${answer.resolved_by}.`;
          form.reset();
          after();
        } else if (response.status === 401) {
          result.textContent = "This coordinator needs its token to act: ";
          const link = document.createElement("a");
          link.href = `/login?next=${encodeURIComponent(location.pathname)}`;
          link.textContent = "sign in";
          result.append(link);
        } else {
          result.textContent = `Refused (${response.status}): ${answer.detail || response.statusText}`;
        }
      } catch (error) {
        result.textContent = `The coordinator did not answer: ${error}`;
      } finally {
        button.disabled = false;
      }
    });
  }
}

export function session() {
  const login = document.querySelector("form[data-login]");
  login?.addEventListener("submit", () => rememberToken(String(new FormData(login).get("token") || "")));
  const signout = document.querySelector("form[data-signout]");
  signout?.addEventListener("submit", () => forgetToken());
}
