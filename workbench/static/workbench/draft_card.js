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

  form.addEventListener("change", function (event) {
    var target = event.target, name = target.name || "";
    var scopeField = /^s(\d+)\.[fk]$/.exec(name);
    if (scopeField) { refreshChips(scopeField[1]); }
    if (/^t\d+\.z$/.test(name)) { target.closest("tr").classList.toggle("del", target.checked); }
    if (/^s\d+\.z$/.test(name)) { target.closest("td").classList.toggle("del", target.checked); }
  });
  document.getElementById("add-tool").addEventListener("click", addTool);
  document.getElementById("add-scope").addEventListener("click", addScope);
  document.getElementById("add-tool").hidden = false;
  document.getElementById("add-scope").hidden = false;
})();
