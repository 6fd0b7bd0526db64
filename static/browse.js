// Browse: picking a facet value applies it at once (the Filter button stays for keyboards).
// A file, not an inline script: the content security policy runs only this origin's files.
document.querySelectorAll("select[data-facet]").forEach((s) =>
  s.addEventListener("change", () => { if (s.value) s.form.submit(); }));
