// The draft card's grid: add tool rows and scope columns before a save, mark removed rows, keep each
// scope's chips in step with its firearm and KPI selects. The page saves the same without this script;
// it only adds what a server round trip would otherwise need.
(function () {
  "use strict";
  var form = document.getElementById("draft-card-form");
  var grid = document.getElementById("grid");
  if (!form || !grid || !form.elements.tn) { return; }
  var tn = form.elements.tn, sn = form.elements.sn;

  function fromTemplate(id, index) {
    var holder = document.createElement("template");
    holder.innerHTML = document.getElementById(id).innerHTML.replace(/__i__/g, String(index));
    return holder.content.firstElementChild;
  }

  function gridCell(row, column) {
    var td = document.createElement("td"), box = document.createElement("input");
    box.type = "checkbox";
    box.name = "t" + row + "." + column;
    td.appendChild(box);
    return td;
  }

  function addTool() {
    var index = Number(tn.value), row = fromTemplate("tool-template", index);
    for (var column = 0; column < Number(sn.value); column += 1) { row.appendChild(gridCell(index, column)); }
    grid.tBodies[0].appendChild(row);
    tn.value = String(index + 1);
    row.querySelector("input").focus();
  }

  function addScope() {
    var index = Number(sn.value), rows = grid.tBodies[0].rows;
    grid.tHead.rows[0].appendChild(fromTemplate("scope-head-template", index));
    grid.tHead.rows[1].appendChild(fromTemplate("scope-settings-template", index));
    for (var i = 0; i < rows.length; i += 1) {
      rows[i].appendChild(gridCell(rows[i].id.slice(1), index));
    }
    sn.value = String(index + 1);
    document.getElementById("c" + index).querySelector("input").focus();
  }

  function chip(text, kind) {
    var span = document.createElement("span");
    span.className = "chip" + (kind ? " " + kind : "");
    span.textContent = text;
    return span;
  }

  function refreshChips(column) {
    var head = document.getElementById("c" + column);
    var firearm = form.elements["s" + column + ".f"], kpis = form.elements["s" + column + ".k"];
    if (!head || !firearm) { return; }
    var chips = head.querySelector(".chips");
    chips.textContent = "";
    var value = firearm.value;
    chips.appendChild(value === "" ? chip("undecided", "undecided")
      : value === "__none__" ? chip("NONE", "none") : chip(value, "fire"));
    if (kpis) {
      Array.prototype.forEach.call(kpis.selectedOptions, function (option) { chips.appendChild(chip(option.value)); });
    }
  }

  // Cells before the scope columns: in a tool row (name, title, description, four hints, schema,
  // remove) and in the scope settings row (one spanning cell).
  var LEAD = 9;

  function markColumn(column, removed) {
    var head = document.getElementById("c" + column), rows = grid.tBodies[0].rows;
    if (head) { head.classList.toggle("del", removed); }
    var settings = grid.tHead.rows[1].cells[1 + Number(column)];
    if (settings) { settings.classList.toggle("del", removed); }
    for (var i = 0; i < rows.length; i += 1) {
      var cell = rows[i].cells[LEAD + Number(column)];
      if (cell) { cell.classList.toggle("del", removed); }
    }
  }

  function followReadOnly(box) {
    // A destructive hint the tool does not set shows what the product assumes, which the read-only box
    // decides: not read-only means destructive. The server knows the page keeps them in step (js=1).
    var destructive = form.elements[box.name.replace(/\.r$/, ".x")];
    if (destructive && destructive.parentNode.classList.contains("u")) { destructive.checked = !box.checked; }
  }

  var schemas = null;
  function fillSchema(details) {
    // A stored tool's schema editor is filled when first opened: 300 schemas in the page would weigh
    // more than the rest of the card.
    var row = details.closest("tr");
    if (!details.open || !row || details.querySelector("textarea")) { return; }
    var index = Number(row.id.slice(1));
    schemas = schemas || fetch(window.location.pathname + "?schemas=json", {credentials: "same-origin"})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); });
    schemas.then(function (answer) {
      if (details.querySelector("textarea")) { return; }
      var area = document.createElement("textarea");
      area.name = "t" + index + ".s";
      area.setAttribute("aria-label", "Input schema");
      area.value = answer.schemas[index] === undefined ? "" : answer.schemas[index];
      details.appendChild(area);
    }).catch(function () {
      schemas = null;
      details.appendChild(document.createTextNode(" Could not load the schema; reload the page."));
    });
  }

  form.addEventListener("change", function (event) {
    var target = event.target, name = target.name || "";
    var scopeField = /^s(\d+)\.[fk]$/.exec(name);
    if (scopeField) { refreshChips(scopeField[1]); }
    if (/^t\d+\.r$/.test(name)) { followReadOnly(target); }
    if (/^t\d+\.z$/.test(name)) { target.closest("tr").classList.toggle("del", target.checked); }
    var scopeRemoved = /^s(\d+)\.z$/.exec(name);
    if (scopeRemoved) { markColumn(scopeRemoved[1], target.checked); }
  });
  // A refused save comes back with removed scopes still ticked for removal: grey their columns too.
  for (var column = 0; column < Number(sn.value); column += 1) {
    var removal = form.elements["s" + column + ".z"];
    if (removal && removal.checked) { markColumn(column, true); }
  }
  grid.addEventListener("toggle", function (event) {
    if (event.target.tagName === "DETAILS") { fillSchema(event.target); }
  }, true);
  var follows = document.createElement("input");
  follows.type = "hidden";
  follows.name = "js";
  follows.value = "1";
  form.appendChild(follows);
  document.getElementById("add-tool").addEventListener("click", addTool);
  document.getElementById("add-scope").addEventListener("click", addScope);
  document.getElementById("add-tool").hidden = false;
  document.getElementById("add-scope").hidden = false;
})();
