// The settings page's "Fit to my reviews" section: while a fit runs, fetch the section
// again every second and a half and swap it in, until it is no longer running.
(function () {
  "use strict";
  var DELAY_MS = 1500;

  function running() {
    var section = document.getElementById("fit");
    return section !== null && section.getAttribute("data-running") === "true";
  }

  function poll() {
    if (!running()) return;
    fetch("/settings/fit", { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var section = document.getElementById("fit");
        if (section !== null) section.outerHTML = html;
        setTimeout(poll, DELAY_MS);
      })
      .catch(function () {
        setTimeout(poll, DELAY_MS * 4);
      });
  }

  setTimeout(poll, DELAY_MS);
})();
