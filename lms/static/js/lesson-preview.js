// Live preview for the lesson editor: sends the Markdown to the server, which renders and sanitises
// it exactly as officers will see it. Debounced, so slow links are not flooded.
(function () {
  "use strict";
  var input = document.querySelector("textarea.markdown-input[data-preview-url]");
  var target = document.querySelector(".preview-body");
  var status = document.querySelector(".preview-status");
  if (!input || !target || !window.fetch) { return; }
  var tokenField = document.querySelector("input[name=csrf_token]");
  var timer = null;
  var sent = 0;

  function refresh() {
    var ticket = ++sent;
    fetch(input.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": tokenField ? tokenField.value : ""
      },
      body: JSON.stringify({ body: input.value, lang: input.getAttribute("data-lang") })
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (ticket !== sent) { return; }
      if (!result.ok) {
        status.textContent = (result.data && result.data.error) || status.getAttribute("data-error");
        return;
      }
      // The server returns HTML sanitised with the lesson allow-list (lms.markup).
      target.innerHTML = result.data.html;
      var missing = result.data.missing || [];
      status.textContent = missing.length ? status.getAttribute("data-missing") + " " + missing.join(", ") : "";
    }).catch(function () {
      if (ticket === sent) { status.textContent = status.getAttribute("data-error"); }
    });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 600);
  });
  refresh();
}());
