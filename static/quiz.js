// Quizzes. On a true/false item, t answers True and f answers False. On the new-quiz
// form, each facet's summary says how many values are ticked ("any" when none).
(() => {
  "use strict";
  for (const group of document.querySelectorAll("details.facet")) {
    const picked = group.querySelector(".picked");
    if (!picked) continue;
    const update = () => {
      const n = group.querySelectorAll("input[type=checkbox]:checked").length;
      picked.textContent = "· " + (n ? picked.dataset.chosen.replace("{n}", String(n)) : picked.dataset.any);
    };
    group.addEventListener("change", update);
  }

  const form = document.querySelector("form.truefalse");
  if (!form) return;
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, select")) return;
    const value = { t: "1", f: "0" }[event.key];
    if (value === undefined) return;
    const button = form.querySelector(`button[name="choice"][value="${value}"]`);
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
})();
