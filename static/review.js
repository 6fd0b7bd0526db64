// Review page: reveal, keyboard shortcuts, the recall checklist, the review's duration,
// and the next card without a page load.
// The page works without this script (plain forms, answer and ratings shown at once; a
// rating or an undo posts and the server answers 303 with the next card's page); it only
// makes review quicker. With it, a rating or an undo posts the same form with fetch,
// follows the same 303 and puts the next page's review section in place of this one, as
// Anki shows the next card: no page load, no repaint of the rest of the page. The server
// still picks the next card (it can depend on this rating), so nothing is prefetched.
(() => {
  "use strict";
  let card, reveal, back, ratings, recall, undo, answer, points;
  let started = 0;
  let busy = false; // a rating or an undo is on its way: ignore more of them
  let built = false;

  const isRevealed = () => back && !back.classList.contains("hidden");

  // Finds this card's elements and sets them up: runs at load and after each swap.
  function wire() {
    card = document.getElementById("card");
    reveal = document.getElementById("reveal");
    back = document.getElementById("back");
    ratings = document.getElementById("ratings");
    recall = document.getElementById("recall");
    undo = document.getElementById("undo");
    started = performance.now();
    busy = false;
    built = false;
    // Without script the page shows the answer at once; with it, the answer waits.
    if (back && reveal && ratings) {
      back.classList.add("hidden");
      ratings.classList.add("hidden");
      reveal.classList.remove("hidden");
    }
    answer = back ? back.querySelector(".answer") : null;
    points = answer ? answer.querySelectorAll(":scope > ul > li, :scope > ol > li") : [];
    if (recall && points.length) recall.classList.remove("hidden");
    if (recall) recall.addEventListener("toggle", toggleChecklist);
    if (reveal) reveal.addEventListener("click", show);
  }

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
  function toggleChecklist() {
    if (recall.open) buildChecklist();
    if (answer) answer.classList.toggle("checking", recall.open);
    if (!recall.open) ratings.querySelectorAll("button").forEach((b) => b.classList.remove("suggested"));
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
    if (busy || !isRevealed()) return;
    const button = ratings.querySelector(`button[data-rating='${value}']`);
    if (button) button.click();
  }

  // A rating or an undo: the same form data (CSRF token included) by fetch.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form !== ratings && form !== undo) return;
    if (form === ratings) {
      document.getElementById("duration").value = String(Math.round(performance.now() - started));
    }
    event.preventDefault();
    // A second tap would be a second request for the same showing; the server
    // records one review either way, but there is no need to send it.
    if (busy) return;
    busy = true;
    const submitter = event.submitter && event.submitter.name ? event.submitter : null;
    const data = new FormData(form);
    if (submitter) data.set(submitter.name, submitter.value);
    form.querySelectorAll("button").forEach((b) => (b.disabled = true));
    const section = document.querySelector("section.review");
    if (section) section.setAttribute("aria-busy", "true");
    post(form, data).catch(() => fallBack(form, data, null));
  });

  async function post(form, data) {
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(data),
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
    } catch {
      return fallBack(form, data, null); // no answer: the server may not have it
    }
    const page = response.ok ? new DOMParser().parseFromString(await response.text(), "text/html") : null;
    const next = page && page.querySelector("section.review");
    const onReview = new URL(response.url).pathname === "/review";
    if (response.redirected && onReview && next && next.querySelector("#card")) {
      swap(page, next, response.url);
    } else {
      fallBack(form, data, response);
    }
  }

  // Anything but the next card (the empty queue, a sign-in page, an error, no answer):
  // the page the browser would have shown without this script.
  function fallBack(form, data, response) {
    if (response && response.redirected) {
      // The server took the post (303) and sent us on: go there, without posting again.
      location.assign(response.url);
    } else if (form === ratings) {
      // No answer, or an error page in answer to the post itself: post it the plain way.
      // Safe to repeat: a rating names the card version it was shown with, and the
      // server records one review per showing.
      const rating = document.createElement("input");
      rating.type = "hidden";
      rating.name = "rating";
      rating.value = data.get("rating");
      form.append(rating);
      form.submit();
    } else if (response) {
      form.submit(); // the undo's error page, as without script
    } else {
      location.reload(); // an undo may have happened: never send a second one blind
    }
  }

  // The next page's review section in place of this one; the rest of the page stays.
  function swap(page, next, url) {
    document.querySelector("section.review").replaceWith(document.adoptNode(next));
    // The language links carry the page's address back.
    const lang = document.querySelector("header .lang");
    const nextLang = page.querySelector("header .lang");
    if (lang && nextLang) lang.replaceWith(document.adoptNode(nextLang));
    // One history entry for the review, as a card is not a page: Back leaves review.
    if (url !== location.href) history.replaceState(null, "", url);
    document.title = page.title;
    window.scrollTo(0, 0);
    wire();
    // Focus moves to the new question, so a screen reader reads it out.
    const front = card && card.querySelector(".front");
    if (front) {
      front.setAttribute("tabindex", "-1");
      front.focus({ preventScroll: true });
    }
  }

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
      if (!busy) undo.requestSubmit ? undo.requestSubmit() : undo.submit();
    }
  });

  // Back to this page from the back-forward cache after a fall-back page load: its
  // buttons are still disabled and its card was rated, so ask the server again.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && busy) location.reload();
  });

  wire();
})();
