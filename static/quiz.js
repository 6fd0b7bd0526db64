// Quiz keys: on a true/false item, t answers True and f answers False.
(() => {
  "use strict";
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
