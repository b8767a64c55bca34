// Postmortem editor: keeps an open edit panel in view after a refused save. The forms work without it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var failed = document.querySelector(".pm-row-edit[open] .error, .pm-add[open] .error, .pm-document .error");
    if (failed && failed.scrollIntoView) failed.scrollIntoView({ block: "center" });
  });
})();
