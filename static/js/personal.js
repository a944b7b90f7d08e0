// The personal part of a public page's header. The page itself is cached and the same
// for everyone; a browser that has signed in (the signed_in marker cookie) asks for its
// own part — name, the way back to its pages, signing out — and puts it in place. Without
// script the page keeps its "Sign in" link, which takes a signed-in visitor home.
(function () {
  "use strict";
  var slot = document.querySelector("[data-personal]");
  if (!slot || document.cookie.split(/;\s*/).indexOf("signed_in=1") < 0) return;
  fetch(slot.getAttribute("data-personal"), { credentials: "same-origin", cache: "no-store" })
    .then(function (response) { return response.status === 200 ? response.text() : null; })
    .then(function (html) { if (html) slot.innerHTML = html; })
    .catch(function () { /* offline: the page keeps its sign-in link */ });
})();
