// Running total of the scoring form. The form works without it; this only adds the live sum.
(function () {
  "use strict";
  var form = document.getElementById("sheet-form");
  if (!form) return;
  var output = document.getElementById("total");
  var inputs = form.querySelectorAll("input.points");

  function toHalfWidth(text) {
    return text.replace(/[\uFF10-\uFF19\uFF0E]/g, function (ch) {
      return String.fromCharCode(ch.charCodeAt(0) - 0xFEE0);
    });
  }

  // Sum in hundredths (integers) so 0.1 + 0.2 style float errors never show.
  function update() {
    var cents = 0;
    inputs.forEach(function (input) {
      var text = toHalfWidth(input.value || "").trim();
      if (text === "" || isNaN(Number(text))) return;
      cents += Math.round(Number(text) * 100);
    });
    var whole = Math.floor(cents / 100);
    var rest = cents % 100;
    output.textContent = rest === 0 ? String(whole) : whole + "." + String(rest).padStart(2, "0").replace(/0$/, "");
  }

  inputs.forEach(function (input) { input.addEventListener("input", update); });
  update();
})();
