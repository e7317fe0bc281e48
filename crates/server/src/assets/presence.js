// Tells the server every few seconds that this agent has the case open, and whether the reply
// box holds text, and shows who else does ("Ana is also replying"). Leaving the page says so,
// so a colleague does not wait for a reply nobody is writing.
(function () {
  "use strict";
  const line = document.getElementById("presence");
  const csrfField = document.querySelector('input[name="csrf"]');
  if (!line || !csrfField) return;
  const url = "/cases/" + line.dataset.case + "/presence";
  const body = document.getElementById("body");
  const replying = () => Boolean(body && body.value.trim());
  let said = null;

  function form(leaving) {
    return new URLSearchParams({
      csrf: csrfField.value,
      replying: String(replying()),
      leaving: String(leaving),
    });
  }

  async function beat() {
    said = replying();
    try {
      const reply = await fetch(url, { method: "POST", body: form(false), credentials: "same-origin" });
      if (reply.ok) line.textContent = (await reply.json()).text;
    } catch (_) {
      // Offline for a moment: the next beat tries again.
    }
  }

  beat();
  setInterval(beat, 10000);
  if (body) {
    // Starting or clearing a reply is news worth telling at once.
    body.addEventListener("input", () => { if (replying() !== said) beat(); });
  }
  window.addEventListener("pagehide", () => navigator.sendBeacon(url, form(true)));
})();
