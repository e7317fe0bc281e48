// Live suggestions for the new-case form: after a short pause in typing, ask the server which
// articles match what has been typed so far and list them beside the form. Links carry the
// form's draft token so that opening one and leaving counts as a deflection.
(function () {
  "use strict";
  const form = document.getElementById("new-case");
  const panel = document.getElementById("live-suggestions");
  if (!form || !panel) return;
  const list = panel.querySelector("ol");
  const subject = form.querySelector("#subject");
  const description = form.querySelector("#description");
  const draft = form.querySelector("#draft").value;
  const PAUSE_MS = 60; // a keystroke pause; the answer itself takes a few milliseconds
  let timer = null;
  let asked = "";
  let inflight = null;

  function render(suggestions) {
    list.replaceChildren();
    for (const s of suggestions) {
      const item = document.createElement("li");
      item.className = "suggestion";
      const link = document.createElement("a");
      link.href = s.href;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = s.title;
      const excerpt = document.createElement("div");
      excerpt.className = "excerpt";
      excerpt.textContent = s.excerpt;
      item.append(link, excerpt);
      list.append(item);
    }
    panel.hidden = suggestions.length === 0;
    panel.dataset.updated = String(performance.now());
  }

  async function ask() {
    const text = subject.value + "\n" + description.value;
    if (text === asked) return;
    asked = text;
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const params = new URLSearchParams({ draft, subject: subject.value, description: description.value });
    try {
      const reply = await fetch("/cases/new/suggestions?" + params, { signal: inflight.signal, credentials: "same-origin" });
      if (!reply.ok) return;
      render((await reply.json()).suggestions);
    } catch (e) {
      if (e.name !== "AbortError") console.warn("suggestions failed", e);
    }
  }

  function typed() {
    clearTimeout(timer);
    timer = setTimeout(ask, PAUSE_MS);
  }
  subject.addEventListener("input", typed);
  description.addEventListener("input", typed);
})();
