// The unit picker of large scopes (macros.html, unit_picker): as the user types a code or
// a name, the units that match (org.unit_search, tones optional) are listed under the box;
// picking one puts its code in the box, which the form submits as before. Without this
// script the box takes a code as it is. Text goes in with textContent only.
(function () {
  "use strict";
  if (!window.fetch) { return; }

  function setUp(root) {
    var input = root.querySelector("input[name=unit]");
    var list = root.querySelector("[role=listbox]");
    var chosen = root.querySelector("[data-chosen]");
    var asked = 0;  // the latest search sent; older answers are dropped
    var timer = null;
    var items = [];
    var active = -1;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      items.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function pick(li) {
      input.value = li.dataset.code;
      chosen.textContent = li.dataset.name;
      close();
      input.focus();
    }
    function show(units) {
      list.textContent = "";
      items = units.map(function (unit, i) {
        var li = document.createElement("li");
        li.id = "unit-picker-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.code = unit.code;
        li.dataset.name = unit.name;
        var code = document.createElement("span");
        code.className = "code";
        code.textContent = unit.code;
        li.appendChild(code);
        li.appendChild(document.createTextNode(" " + unit.name));
        // mousedown, not click: it comes before the box loses its focus.
        li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(li); });
        list.appendChild(li);
        return li;
      });
      if (!items.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = root.dataset.none;
        list.appendChild(none);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }
    function search() {
      var text = input.value.trim();
      var mine = ++asked;
      if (!text) { close(); return; }
      fetch(root.dataset.url + "?q=" + encodeURIComponent(text),
            {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (answer) { return answer.ok ? answer.json() : {units: []}; })
        .then(function (data) { if (mine === asked) { show(data.units); } })
        .catch(function () { if (mine === asked) { close(); } });
    }

    input.addEventListener("input", function () {
      chosen.textContent = "";
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown" && items.length) {
        event.preventDefault();
        highlight((active + 1) % items.length);
      } else if (event.key === "ArrowUp" && items.length) {
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && (active >= 0 || items.length === 1)) {
        event.preventDefault();  // pick (the only match, or the one chosen); the next submits
        pick(items[Math.max(active, 0)]);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".unit-picker[data-url]"), setUp);
})();
