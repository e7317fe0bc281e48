// Likely answers on the community's ask form: after a short pause in typing the title, ask
// /community/likely for answered questions (those with an accepted answer first) and articles
// that may already answer it, found by the known-issue matcher, and list them as links under
// the title. Without script the form still posts the question.
(function () {
  "use strict";
  const form = document.getElementById("ask-form");
  if (!form) return;
  const title = form.querySelector("input[name=title]");
  const section = document.getElementById("likely");
  const list = document.getElementById("likely-list");

  function render(items) {
    list.replaceChildren();
    for (const item of items) {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = item.href;
      link.textContent = item.title;
      const kind = document.createElement("span");
      kind.className = "excerpt";
      kind.textContent =
        item.kind === "article"
          ? " (article)"
          : item.answered
            ? " (question with an accepted answer)"
            : " (answered question)";
      li.append(link, kind);
      list.append(li);
    }
    section.hidden = items.length === 0;
    section.dataset.updated = String(performance.now());
  }

  backlineTypeahead(title, {
    url: form.dataset.likely,
    pauseMs: 150,
    minLength: 3,
    pick: (body) => body.likely,
    render: render,
  });
})();
