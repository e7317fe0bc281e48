// Suggestions while typing, shared by help.js and community.js (served joined in front of
// each): after a pause in typing into `input`, ask `options.url?q=` for JSON and hand
// `options.pick(body)` to `options.render`. A text shorter than `options.minLength` renders
// nothing; a request still running when the text changes is aborted, and an answer for a
// text since changed is dropped.
function backlineTypeahead(input, options) {
  "use strict";
  let timer = null;
  let asked = "";
  let inflight = null;

  async function ask() {
    const text = input.value.trim();
    if (text === asked) return;
    asked = text;
    if (text.length < options.minLength) {
      options.render([]);
      return;
    }
    if (inflight) inflight.abort();
    inflight = new AbortController();
    try {
      const response = await fetch(options.url + "?q=" + encodeURIComponent(text), {
        signal: inflight.signal,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const body = await response.json();
      if (text === asked) options.render(options.pick(body) || []);
    } catch (e) {
      if (e.name !== "AbortError") options.render([]);
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, options.pauseMs);
  });
}
