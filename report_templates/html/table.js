// The experiments table of the quarterly report, sortable and filterable. The page is complete
// without it: the script only reorders and hides rows that are already there. The state lives in
// the address (#experiments?verdict=red&sort=7&order=desc), so a filtered view can be shared.
(function () {
  "use strict";
  var table = document.getElementById("experiments-table");
  var form = document.getElementById("experiment-filters");
  if (!table || !form) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
  var count = document.getElementById("experiment-count");
  var sortColumn = -1;
  var descending = false;

  rows.forEach(function (row, index) { row.setAttribute("data-index", index); });

  function sortValue(row, column, type) {
    var cell = row.cells[column];
    var text = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (type === "number") return text === "" ? null : parseFloat(text);
    return text === "—" ? "" : text;
  }

  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      var visible = selects.every(function (select) {
        if (!select.value) return true;
        var value = row.getAttribute("data-" + select.name) || "";
        // A row may hold several values of a filter (systems), separated by "|".
        var values = select.hasAttribute("data-several") ? value.split("|") : [value];
        return values.indexOf(select.value) >= 0;
      });
      row.hidden = !visible;
      if (visible) shown += 1;
    });
    count.textContent = count.getAttribute("data-template")
      .replace("{shown}", shown).replace("{total}", rows.length);

    var ordered = rows.slice();
    if (sortColumn >= 0) {
      var type = headers[sortColumn].getAttribute("data-sort-type");
      ordered.sort(function (a, b) {
        var x = sortValue(a, sortColumn, type);
        var y = sortValue(b, sortColumn, type);
        // Missing values go last in either order; ties keep the report's own order.
        if ((x === null || x === "") !== (y === null || y === "")) return (x === null || x === "") ? 1 : -1;
        var order = 0;
        if (type === "number") order = x - y;
        else order = x < y ? -1 : (x > y ? 1 : 0);
        if (descending) order = -order;
        return order || (a.getAttribute("data-index") - b.getAttribute("data-index"));
      });
    }
    var fragment = document.createDocumentFragment();
    ordered.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    headers.forEach(function (header, column) {
      if (!header.hasAttribute("data-sort-type")) return;
      if (column === sortColumn) header.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else header.removeAttribute("aria-sort");
    });
  }

  function remember() {
    var state = [];
    selects.forEach(function (select) {
      if (select.value) state.push(select.name + "=" + encodeURIComponent(select.value));
    });
    if (sortColumn >= 0) state.push("sort=" + sortColumn, "order=" + (descending ? "desc" : "asc"));
    var hash = state.length ? "#experiments?" + state.join("&") : "#experiments";
    if (window.history && history.replaceState) history.replaceState(null, "", hash);
  }

  function restore() {
    var hash = window.location.hash;
    if (hash.indexOf("#experiments?") !== 0) return false;
    hash.slice("#experiments?".length).split("&").forEach(function (pair) {
      var parts = pair.split("=");
      var name = parts[0];
      var value = decodeURIComponent(parts[1] || "");
      if (name === "sort") sortColumn = parseInt(value, 10);
      else if (name === "order") descending = value === "desc";
      else selects.forEach(function (select) { if (select.name === name) select.value = value; });
    });
    if (!(sortColumn >= 0 && sortColumn < headers.length && headers[sortColumn].hasAttribute("data-sort-type"))) sortColumn = -1;
    return true;
  }

  headers.forEach(function (header, column) {
    if (!header.hasAttribute("data-sort-type")) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    while (header.firstChild) button.appendChild(header.firstChild);
    header.appendChild(button);
    button.addEventListener("click", function () {
      descending = column === sortColumn ? !descending : false;
      sortColumn = column;
      apply();
      remember();
    });
  });
  selects.forEach(function (select) {
    select.addEventListener("change", function () { apply(); remember(); });
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  form.hidden = false;
  var restored = restore();
  apply();
  if (restored) document.getElementById("experiments").scrollIntoView();
})();
