// Review page: reveal, keyboard shortcuts, the recall checklist, the review's duration.
// The page works without this script (plain forms); it only makes review quicker.
(() => {
  "use strict";
  const card = document.getElementById("card");
  const reveal = document.getElementById("reveal");
  const back = document.getElementById("back");
  const ratings = document.getElementById("ratings");
  const undo = document.getElementById("undo");
  const started = performance.now();
  let submitted = false;

  // Without script the page shows the answer at once; with it, the answer waits.
  if (back && reveal) {
    back.classList.add("hidden");
    reveal.classList.remove("hidden");
  }
  const isRevealed = () => back && !back.classList.contains("hidden");

  function show() {
    if (!back || isRevealed()) return;
    back.classList.remove("hidden");
    reveal.classList.add("hidden");
    addChecklist();
    const first = ratings.querySelector("button[data-rating='3']");
    if (first) first.focus({ preventScroll: true });
  }

  function addChecklist() {
    const answer = back.querySelector(".answer");
    const items = answer.querySelectorAll(":scope > ul > li, :scope > ol > li");
    if (!items.length) return;
    answer.classList.add("checklist");
    items.forEach((li) => {
      const box = document.createElement("input");
      box.type = "checkbox";
      box.className = "recall";
      box.setAttribute("aria-label", li.textContent.trim().slice(0, 60));
      box.addEventListener("change", suggest);
      li.prepend(box);
    });
  }

  // Share of points recalled -> a suggested rating; the user still picks.
  function suggest() {
    const boxes = [...back.querySelectorAll("input.recall")];
    const share = boxes.filter((b) => b.checked).length / boxes.length;
    const rating = share >= 1 ? 4 : share >= 0.7 ? 3 : share >= 0.4 ? 2 : 1;
    ratings.querySelectorAll("button").forEach((b) =>
      b.classList.toggle("suggested", Number(b.dataset.rating) === rating));
  }

  function rate(value) {
    if (submitted || !isRevealed()) return;
    const button = ratings.querySelector(`button[data-rating='${value}']`);
    if (button) { submitted = true; button.click(); }
  }

  if (ratings) {
    ratings.addEventListener("submit", () => {
      document.getElementById("duration").value = String(Math.round(performance.now() - started));
      // A second click would be a second request for the same showing; the server
      // records one review either way, but there is no need to send it.
      setTimeout(() => ratings.querySelectorAll("button").forEach((b) => (b.disabled = true)), 0);
    });
  }
  if (reveal) reveal.addEventListener("click", show);

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") {
      if (event.target.type !== "checkbox") return;
    }
    if ((event.key === " " || event.key === "Enter") && card && !isRevealed()) {
      event.preventDefault();
      show();
    } else if (["1", "2", "3", "4"].includes(event.key)) {
      event.preventDefault();
      rate(event.key);
    } else if (event.key === "u" && undo) {
      event.preventDefault();
      undo.submit();
    }
  });
})();
