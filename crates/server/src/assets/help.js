// Suggestions under the help centre's search box: after a short pause in typing, ask the
// centre's /suggest address for matching articles and list them as links. Without script the
// box still searches on submit.
(function () {
  "use strict";
  const form = document.querySelector("form.help-search");
  if (!form) return;
  const input = form.querySelector("input[name=q]");
  const list = document.getElementById("help-suggestions");

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

  backlineTypeahead(input, {
    url: form.dataset.suggest,
    pauseMs: 120,
    minLength: 2,
    pick: (body) => body.suggestions,
    render: render,
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
