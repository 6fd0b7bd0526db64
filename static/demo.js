// A demo's form: a field with data-show-if ({"other": [values]}) shows only while the
// other fields hold one of those values (the server ignores it otherwise too).
(() => {
  "use strict";
  const form = document.querySelector("form.demo-form");
  if (!form) return;
  const dependent = Array.from(form.querySelectorAll("[data-show-if]"));
  if (!dependent.length) return;

  function valueOf(name) {
    const el = form.elements.namedItem(name);
    if (!el) return undefined;
    if (el.type === "checkbox") return el.checked ? "true" : "false";
    return el.value;
  }

  function update() {
    for (const label of dependent) {
      const rule = JSON.parse(label.dataset.showIf);
      const applies = Object.entries(rule).every(([other, allowed]) =>
        allowed.map(String).includes(String(valueOf(other))));
      label.hidden = !applies;
      label.querySelectorAll("input, select").forEach((el) => { el.disabled = !applies; });
    }
  }

  form.addEventListener("change", update);
  update();
})();
