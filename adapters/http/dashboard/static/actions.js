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
          if (answer.changed === false) {  // nothing was recorded: say why, as the API did
            result.textContent = action === "ack" ? `Nothing recorded: ${answer.reason || "nothing changed"}.` :
              "It was already resolved.";
          } else {
            result.textContent = action === "ack" ? `Acknowledged by ${answer.acknowledged_by}.` :
              `Resolved by ${answer.resolved_by}.`;
          }
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

/** A path of this site to go to (never another site's address), as the server allows it. */
function samePath(target) {
  return target.startsWith("/") && !target.startsWith("//") && !target.includes("\\") ? target : "/";
}

export function session() {
  const login = document.querySelector("form[data-login]");
  // The token is kept only once the server has taken it: the form is sent by the script, which goes on to the
  // page asked for on success and shows the server's answer otherwise.
  login?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = new FormData(login);
    const button = login.querySelector("button");
    button.disabled = true;
    try {
      const response = await fetch(login.action, {
        method: "POST", body: new URLSearchParams(fields), redirect: "manual",
      });
      if (response.type === "opaqueredirect") {
        rememberToken(String(fields.get("token") || ""));
        location.assign(samePath(String(fields.get("next") || "/")));
        return;
      }
      const answered = new DOMParser().parseFromString(await response.text(), "text/html");
      showProblem(login, answered.querySelector(".problem")?.textContent || `Refused (${response.status}).`);
    } catch (error) {
      showProblem(login, `The coordinator did not answer: ${error}`);
    } finally {
      button.disabled = false;
    }
  });
  const signout = document.querySelector("form[data-signout]");
  signout?.addEventListener("submit", () => forgetToken());
}

function showProblem(form, text) {
  let problem = form.querySelector(".problem");
  if (!problem) {
    problem = document.createElement("p");
    problem.className = "problem";
    problem.setAttribute("role", "alert");
    form.querySelector("input[type=hidden]").before(problem);
  }
  problem.textContent = text;
}
