// Signalpost console: reorder groups and components by drag and drop (HTML5 drag events, no library).
// Each <ol data-reorder-url data-group> is one order: the page's top level (data-group="") or one
// group's components. A drop posts the list's complete new order; the Move up / Move down buttons
// do the same without script, so this only saves time.
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function announce(text, isError) {
    var status = document.getElementById("order-status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("is-error", !!isError);
  }

  function itemsOf(list) {
    return Array.prototype.filter.call(list.children, function (li) { return li.dataset && li.dataset.ref; });
  }

  // After a drop the first and last items change: keep the buttons' disabled states true to the order.
  function refreshButtons(list) {
    var items = itemsOf(list);
    items.forEach(function (li, index) {
      var row = li.querySelector(":scope > .order__row");
      if (!row) return;
      var up = row.querySelector("button[data-move=up]");
      var down = row.querySelector("button[data-move=down]");
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === items.length - 1;
    });
  }

  function save(list, before) {
    var order = itemsOf(list).map(function (li) { return li.dataset.ref; });
    if (order.join() === before.map(function (li) { return li.dataset.ref; }).join()) return;
    announce("Saving the order…");
    fetch(list.dataset.reorderUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ group: list.dataset.group || "", order: order }),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) throw new Error(body.error || ("the server answered " + response.status));
        announce("Order saved; the public page shows it now.");
        refreshButtons(list);
      });
    }).catch(function (error) {
      before.forEach(function (li) { list.appendChild(li); });  // put it back as the server has it
      refreshButtons(list);
      announce("The order was not saved: " + error.message, true);
    });
  }

  function setup(list) {
    var dragged = null, before = null;
    list.classList.add("order--draggable");
    itemsOf(list).forEach(function (li) { li.draggable = true; });

    list.addEventListener("dragstart", function (e) {
      var li = e.target.closest && e.target.closest("li[data-ref]");
      if (!li || li.parentElement !== list) return;  // an item of a nested list: that list handles it
      e.stopPropagation();
      dragged = li;
      before = itemsOf(list);
      li.classList.add("is-dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", li.dataset.ref);
    });

    list.addEventListener("dragover", function (e) {
      if (!dragged) return;
      var over = e.target.closest && e.target.closest("li[data-ref]");
      // Climb out of a nested list to the item of this list that holds it.
      while (over && over.parentElement !== list) over = over.parentElement.closest("li[data-ref]");
      if (!over) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      if (over === dragged) return;
      var box = over.getBoundingClientRect();
      var after = e.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });

    list.addEventListener("drop", function (e) {
      if (dragged) e.preventDefault();
    });

    list.addEventListener("dragend", function (e) {
      if (!dragged) return;
      e.stopPropagation();
      dragged.classList.remove("is-dragging");
      var previous = before;
      dragged = null;
      before = null;
      if (e.dataTransfer && e.dataTransfer.dropEffect === "none") {  // cancelled (Escape, dropped outside)
        previous.forEach(function (li) { list.appendChild(li); });
        return;
      }
      save(list, previous);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("ol[data-reorder-url]").forEach(setup);
  });
})();
