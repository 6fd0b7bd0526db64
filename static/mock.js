// Mock interview pages: the two clocks keep running, and the keyboard drives the page
// (Ctrl+Enter or Cmd+Enter hands in an answer; 1-4 grade it). The server records the
// times; these clocks only show them, counted from the figures the server rendered,
// so the browser's own clock being off does not matter.
(() => {
  "use strict";
  const clocks = document.getElementById("mock-clocks");
  const pad = (n) => String(n).padStart(2, "0");
  const mmss = (s) => {
    const a = Math.abs(Math.floor(s));
    return (s < 0 ? "-" : "") + Math.floor(a / 60) + ":" + pad(a % 60);
  };

  if (clocks && clocks.dataset.running === "yes") {
    const loaded = performance.now();
    const elapsed = Number(clocks.dataset.elapsed);
    const total = Number(clocks.dataset.total);
    const share = Number(clocks.dataset.share);
    const limit = Number(clocks.dataset.limit);
    const questionTime = document.getElementById("question-time");
    const totalLeft = document.getElementById("total-left");
    const questionClock = clocks.querySelector(".question-clock");
    const totalClock = clocks.querySelector(".total-clock");
    const tick = () => {
      const since = (performance.now() - loaded) / 1000;
      const spent = elapsed + since;
      const left = limit - (total + since);
      questionTime.textContent = mmss(spent);
      totalLeft.textContent = mmss(left);
      questionClock.classList.toggle("over", spent > share);
      totalClock.classList.toggle("over", left < 0);
    };
    tick();
    setInterval(tick, 1000);
  }

  const typing = (el) =>
    el instanceof HTMLElement &&
    (el.tagName === "TEXTAREA" || el.isContentEditable ||
      (el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(el.type)));

  // Answer: Ctrl+Enter hands it in; Esc leaves the text box (then Enter hands it in too).
  const answerForm = document.getElementById("answer-form");
  if (answerForm) {
    let sent = false;
    answerForm.addEventListener("submit", (event) => {
      if (sent) event.preventDefault();
      sent = true;
    });
    const text = answerForm.querySelector("textarea");
    document.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        answerForm.requestSubmit();
      } else if (event.key === "Escape" && document.activeElement === text) {
        text.blur();
      }
    });
  }

  // Grade: 1-4 press the rating buttons (not while typing).
  const ratings = document.getElementById("ratings");
  if (ratings) {
    const form = ratings.closest("form");
    let sent = false;
    form.addEventListener("submit", (event) => {
      if (sent) event.preventDefault();
      sent = true;
    });
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      const button = ratings.querySelector(`button[data-rating="${event.key}"]`);
      if (button) {
        event.preventDefault();
        button.click();
      }
    });
  }
})();
