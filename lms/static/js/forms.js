/* A form that came back with errors: move the focus to the first field in error, so that a keyboard
 * or screen-reader user lands on it and hears its label and its error (the field macro links them
 * with aria-describedby; the summary above the form is a role=alert). Without this script the
 * summary's links lead to each field. A page that already placed the focus (autofocus) is left alone.
 */
(function () {
  "use strict";
  var first = document.querySelector("main [aria-invalid=true]");
  if (!first || typeof first.focus !== "function") { return; }
  if (document.activeElement && document.activeElement !== document.body) { return; }
  first.focus();
})();
