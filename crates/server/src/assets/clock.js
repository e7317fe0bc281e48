// Counts down to each incident's next committed update, every second.
(function () {
  function tick() {
    for (const el of document.querySelectorAll('.clock[data-due]')) {
      const left = Math.round((Number(el.dataset.due) - Date.now()) / 1000);
      const abs = Math.abs(left), m = Math.floor(abs / 60), s = abs % 60;
      el.textContent = (left < 0 ? 'overdue by ' : 'in ') + m + ' min ' + String(s).padStart(2, '0') + ' s';
      el.classList.toggle('late', left < 0);
    }
  }
  tick();
  setInterval(tick, 1000);
})();
