/* ictgov: the little JavaScript the pages use. Every page works without it. */
(function () {
  "use strict";

  // Charts: <div class="chart" data-vega-spec="URL or #script-id">; needs the vega files
  // loaded by the page (see static/vendor/README.md). Rendered once per element.
  function embedCharts(root) {
    if (typeof window.vegaEmbed !== "function") return;
    root.querySelectorAll("[data-vega-spec]:not([data-vega-done])").forEach(function (el) {
      el.setAttribute("data-vega-done", "");
      var ref = el.getAttribute("data-vega-spec");
      var spec = ref;
      if (ref.charAt(0) === "#") {
        var node = document.querySelector(ref);
        if (!node) { return; }
        spec = JSON.parse(node.textContent);
      }
      var lang = document.documentElement.lang || "vi";
      window.vegaEmbed(el, spec, {
        // Vega's bundled expression interpreter instead of generated code: the pages'
        // Content-Security-Policy allows no eval (script-src 'self').
        ast: true,
        actions: { export: true, source: false, compiled: false, editor: false },
        formatLocale: lang === "vi" ? { decimal: ",", thousands: ".", grouping: [3], currency: ["", " ₫"] } : undefined
      }).catch(function (err) {
        el.textContent = el.getAttribute("data-vega-error") || String(err);
        el.classList.add("chart-error");
      });
    });
  }

  // <form data-confirm="Are you sure?"> asks before submitting.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) ev.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () { embedCharts(document); });
  document.addEventListener("htmx:load", function (ev) { embedCharts(ev.target || document); });
})();
