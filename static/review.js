// Review page: reveal, keyboard shortcuts, the recall checklist, the review's duration.
// The page works without this script (plain forms, answer and ratings shown at once);
// it only makes review quicker.
(() => {
  "use strict";
  const card = document.getElementById("card");
  const reveal = document.getElementById("reveal");
  const back = document.getElementById("back");
  const ratings = document.getElementById("ratings");
  const recall = document.getElementById("recall");
  const undo = document.getElementById("undo");
  const started = performance.now();
  let submitted = false;

  // Without script the page shows the answer at once; with it, the answer waits.
  if (back && reveal && ratings) {
    back.classList.add("hidden");
    ratings.classList.add("hidden");
    reveal.classList.remove("hidden");
  }
  const isRevealed = () => back && !back.classList.contains("hidden");
  const answer = back ? back.querySelector(".answer") : null;
  const points = answer ? answer.querySelectorAll(":scope > ul > li, :scope > ol > li") : [];
  if (recall && points.length) recall.classList.remove("hidden");

  function show() {
    if (!back || isRevealed()) return;
    back.classList.remove("hidden");
    reveal.classList.add("hidden");
    ratings.classList.remove("hidden");
    const good = ratings.querySelector("button[data-rating='3']");
    if (good) good.focus({ preventScroll: true });
  }

  // The checklist, folded by default: opening it puts a box beside each top-level
  // point of the answer (the point's own text and nested bullets stay as they are).
  let built = false;
  function buildChecklist() {
    if (built) return;
    built = true;
    points.forEach((li) => {
      const box = document.createElement("input");
      box.type = "checkbox";
      box.className = "recall-box";
      box.setAttribute("aria-label", li.textContent.trim().slice(0, 60));
      box.addEventListener("change", suggest);
      const body = document.createElement("div");
      body.className = "point";
      while (li.firstChild) body.appendChild(li.firstChild);
      li.append(box, body);
      li.classList.add("recall-item");
    });
  }
  if (recall) {
    recall.addEventListener("toggle", () => {
      if (recall.open) buildChecklist();
      answer.classList.toggle("checking", recall.open);
      if (!recall.open) ratings.querySelectorAll("button").forEach((b) => b.classList.remove("suggested"));
    });
  }

  // Share of points recalled -> a suggested rating; the user still picks.
  function suggest() {
    const boxes = [...back.querySelectorAll("input.recall-box")];
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
