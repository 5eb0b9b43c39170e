/* dx pages: the print button of the result report. Loaded only there. */
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var button = ev.target && ev.target.closest && ev.target.closest("[data-print]");
    if (button) { window.print(); }
  });
})();
