// Keyboard shortcuts, listed in the help overlay that "?" opens:
//   j / k   next / previous case in a list      o or Enter  open it      x  select it
//   r       write a reply                        Ctrl+Enter  send the reply being written
//   /       search                               n           new case
(function () {
  "use strict";
  const help = document.getElementById("shortcuts");
  const rows = () => Array.from(document.querySelectorAll("table.cases tbody tr"));
  let current = -1;

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, current + step));
    all.forEach((row, i) => row.classList.toggle("current", i === current));
    const link = all[current].querySelector("a");
    if (link) link.focus();
  }

  function openHelp() {
    if (help && !help.open) help.showModal();
  }

  document.querySelectorAll("[data-open-shortcuts]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", openHelp);
  });

  document.addEventListener("keydown", (event) => {
    // Ctrl+Enter (or Cmd+Enter) sends from inside the reply box, like most mail programs.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.id === "body") {
      const send = document.querySelector('#reply button[value="send"]');
      if (send) {
        event.preventDefault();
        event.target.form.requestSubmit(send);
      }
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const all = rows();
    switch (event.key) {
      case "?":
        openHelp();
        break;
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "o":
        if (all[current]) all[current].querySelector("a")?.click();
        break;
      case "x": {
        const box = all[current]?.querySelector('input[type="checkbox"]');
        if (box) box.click();
        break;
      }
      case "r": {
        const reply = document.getElementById("body");
        if (reply) reply.focus();
        break;
      }
      case "/": {
        const search = document.getElementById("q");
        if (search) search.focus();
        else window.location.href = "/search";
        break;
      }
      case "n":
        window.location.href = "/cases/new";
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();

// Forms that undo something ask first (`data-confirm` on the form or its button).
document.addEventListener("submit", (event) => {
  const ask = event.submitter?.dataset.confirm || event.target.dataset.confirm;
  if (ask && !window.confirm(ask)) event.preventDefault();
});
