// Suggestions under the help centre's search box: after a short pause in typing, ask the
// centre's /suggest address for matching articles and list them as links. Without script the
// box still searches on submit.
(function () {
  "use strict";
  const form = document.querySelector("form.help-search");
  if (!form) return;
  const input = form.querySelector("input[name=q]");
  const list = document.getElementById("help-suggestions");
  const url = form.dataset.suggest;
  const PAUSE_MS = 120;
  let timer = null;
  let asked = "";
  let inflight = null;

  function render(suggestions) {
    list.replaceChildren();
    for (const s of suggestions) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = s.href;
      link.textContent = s.title;
      item.append(link);
      list.append(item);
    }
    list.hidden = suggestions.length === 0;
    list.dataset.updated = String(performance.now());
  }

  async function ask() {
    const text = input.value.trim();
    if (text === asked) return;
    asked = text;
    if (text.length < 2) {
      render([]);
      return;
    }
    if (inflight) inflight.abort();
    inflight = new AbortController();
    try {
      const response = await fetch(url + "?q=" + encodeURIComponent(text), {
        signal: inflight.signal,
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const body = await response.json();
      if (text === asked) render(body.suggestions || []);
    } catch (e) {
      if (e.name !== "AbortError") render([]);
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, PAUSE_MS);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      list.hidden = true;
    } else if (event.key === "ArrowDown" && !list.hidden) {
      const first = list.querySelector("a");
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
})();
