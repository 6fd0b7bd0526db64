// Browse: picking a facet value (or its "any") applies it at once; the Filter button
// stays for keyboards. Empty fields are left out of the address (the server also
// redirects an address with empty fields to the clean one).
// A file, not an inline script: the content security policy runs only this origin's files.
(() => {
  "use strict";
  const form = document.querySelector("form.filters");
  if (!form) return;
  const clean = () => {
    for (const field of form.elements) {
      if ((field instanceof HTMLInputElement || field instanceof HTMLSelectElement)
          && field.name && !field.value.trim()) {
        field.disabled = true; // a disabled field is not submitted
      }
    }
  };
  form.addEventListener("submit", clean);
  // Coming back with the Back button restores the page from the cache: fields disabled
  // just before leaving must work again.
  window.addEventListener("pageshow", () => {
    for (const field of form.elements) field.disabled = false;
  });
  form.querySelectorAll("select[data-facet]").forEach((select) =>
    select.addEventListener("change", () => form.requestSubmit()));
})();
