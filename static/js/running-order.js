// The running-order page: drag a row (or press its ↑ ↓ buttons) to move an entry within its
// group, and the numbers are filled in again 1, 2, 3 … in the new order. The form works
// without this script: the numbers are typed, and the server checks them either way.
// On the print view, a Print button.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  var form = document.querySelector("form[data-running-order]");
  if (!form) return;

  function renumber(body) {
    body.querySelectorAll("tr[data-order-row]").forEach(function (row, index) {
      var input = row.querySelector("input.order-number");
      if (input) input.value = String(index + 1);
    });
  }

  // Before the rows are moved, put them in the order of the numbers typed so far.
  function sortByNumbers(body) {
    var rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-order-row]"));
    var keyed = rows.map(function (row, index) {
      var value = parseInt(row.querySelector("input.order-number").value, 10);
      return { row: row, key: isNaN(value) ? Infinity : value, index: index };
    });
    keyed.sort(function (a, b) { return a.key - b.key || a.index - b.index; });
    keyed.forEach(function (item) { body.appendChild(item.row); });
  }

  function move(row, step) {
    var body = row.parentNode;
    sortByNumbers(body);
    if (step < 0 && row.previousElementSibling) body.insertBefore(row, row.previousElementSibling);
    if (step > 0 && row.nextElementSibling) body.insertBefore(row.nextElementSibling, row);
    renumber(body);
  }

  function button(label, title, step, row) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "order-move";
    b.textContent = label;
    b.title = title;
    b.setAttribute("aria-label", title);
    b.addEventListener("click", function () {
      move(row, step);
      b.focus();
    });
    return b;
  }

  var dragged = null;

  form.querySelectorAll("tbody[data-order-group]").forEach(function (body) {
    body.querySelectorAll("tr[data-order-row]").forEach(function (row) {
      var cell = row.querySelector("td");
      var code = row.querySelector("strong") ? row.querySelector("strong").textContent : "";
      cell.appendChild(button("↑", code + " ↑", -1, row));
      cell.appendChild(button("↓", code + " ↓", 1, row));
      row.draggable = true;
      row.addEventListener("dragstart", function (event) {
        sortByNumbers(body);
        dragged = row;
        row.classList.add("is-dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", code);
      });
      row.addEventListener("dragend", function () {
        row.classList.remove("is-dragging");
        dragged = null;
        renumber(body);
      });
    });
    body.addEventListener("dragover", function (event) {
      if (!dragged || dragged.parentNode !== body) return; // within its own group only
      event.preventDefault();
      var target = event.target.closest("tr[data-order-row]");
      if (!target || target === dragged) return;
      var box = target.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      body.insertBefore(dragged, after ? target.nextElementSibling : target);
    });
    body.addEventListener("drop", function (event) {
      if (dragged && dragged.parentNode === body) event.preventDefault();
    });
  });
})();
