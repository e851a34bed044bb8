/* The proposal section editor: rows that repeat, live word counts, a budget preview and autosave.
 *
 * The form works without this script (it posts and the server saves). With it:
 * - "Add" and "Remove" buttons manage repeating rows; names ("lines-2-unit_cost") are renumbered from
 *   the rows' positions, so the server reads the same structure either way.
 * - Autosave with a copy kept in the browser (autosave.js, loaded before this script on the pages that
 *   autosave; the merge page does not): one key per user, proposal and section; saves go as JSON
 *   ({content, base_version}), 2 seconds after the last keystroke and when the page is hidden.
 *   409: someone else saved; the server kept this version, a link leads to the merge.
 *   403, 404 (or 409 without a merge): the proposal can no longer be edited; nothing more is sent.
 * No inline scripts or styles: the page's Content-Security-Policy allows neither.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 2000;

  // -- small helpers ----------------------------------------------------------------------------------

  function directRows(container) {
    var holder = container.querySelector(":scope > [data-rows]");
    return holder ? Array.prototype.filter.call(holder.children, function (el) { return el.matches("[data-row]"); }) : [];
  }

  function parentRow(el) {
    var container = el.closest("[data-repeat]");
    return container && container.parentElement ? container.parentElement.closest("[data-row]") : null;
  }

  function rowIndex(row) {
    return directRows(row.closest("[data-repeat]")).indexOf(row);
  }

  // -- repeating rows ---------------------------------------------------------------------------------

  function renumber(form) {
    form.querySelectorAll("[data-row]").forEach(function (row) {
      var numbers = [];
      for (var r = row; r; r = parentRow(r)) { numbers.unshift(rowIndex(r) + 1); }
      row.querySelectorAll("[data-row-number]").forEach(function (el) {
        if (el.closest("[data-row]") === row) { el.textContent = numbers.join("."); }
      });
    });
    form.querySelectorAll("[data-row] [data-field]").forEach(function (control) {
      var parts = [control.getAttribute("data-field")];
      for (var row = control.closest("[data-row]"); row; row = parentRow(row)) {
        parts.unshift(row.closest("[data-repeat]").getAttribute("data-repeat"), String(rowIndex(row)));
      }
      var name = parts.join("-");
      var old = control.name;
      if (old === name) { return; }
      var wrapper = control.parentElement;
      [wrapper].concat(Array.prototype.slice.call(wrapper.querySelectorAll("*"))).forEach(function (el) {
        ["id", "for", "aria-describedby", "data-word-count-for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && value.indexOf("f-" + old) !== -1) { el.setAttribute(attr, value.split("f-" + old).join("f-" + name)); }
        });
        if (el.getAttribute("data-error-for") === old) { el.setAttribute("data-error-for", name); }
      });
      control.name = name;
    });
  }

  function revealButtons(root) {
    root.querySelectorAll("[data-add-row][hidden], [data-remove-row][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function addRow(form, container, focus) {
    var template = container.querySelector(":scope > template[data-row-template]");
    var holder = container.querySelector(":scope > [data-rows]");
    var fragment = template.content.cloneNode(true);
    var row = fragment.querySelector("[data-row]");
    holder.appendChild(fragment);
    revealButtons(row);
    renumber(form);
    setupWordCounts(row);
    if (focus) {
      var first = row.querySelector("input, select, textarea");
      if (first) { first.focus(); }
    }
    return row;
  }

  function removeSpareRows(form) {
    // The server adds a blank row per group for browsers without this script; with it, "Add" does that.
    form.querySelectorAll("[data-row][data-spare]").forEach(function (row) {
      var siblings = directRows(row.closest("[data-repeat]"));
      if (siblings.length > 1) { row.remove(); }
    });
  }

  // -- reading and writing the form -------------------------------------------------------------------

  function nest(fields, multi) {
    var root = {};
    multi.forEach(function (name) { root[name] = []; });
    fields.forEach(function (pair) {
      var name = pair[0];
      if (multi.indexOf(name) !== -1) { root[name].push(pair[1]); return; }
      var parts = name.split("-");
      var node = root;
      for (var i = 0; i < parts.length - 1; i++) {
        if (typeof node[parts[i]] !== "object" || node[parts[i]] === null || Array.isArray(node[parts[i]])) {
          node[parts[i]] = {};
        }
        node = node[parts[i]];
      }
      node[parts[parts.length - 1]] = pair[1];
    });
    return lists(root);
  }

  function lists(node) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) { return node; }
    var keys = Object.keys(node);
    if (keys.length && keys.every(function (k) { return /^\d+$/.test(k); })) {
      return keys.sort(function (a, b) { return a - b; }).map(function (k) { return lists(node[k]); });
    }
    var result = {};
    keys.forEach(function (k) { result[k] = lists(node[k]); });
    return result;
  }

  function findRepeat(form, scope, name) {
    var candidates = (scope === form ? form : scope).querySelectorAll('[data-repeat="' + name + '"]');
    return Array.prototype.find.call(candidates, function (container) {
      var owner = container.parentElement.closest("[data-row]");
      return scope === form ? owner === null : owner === scope;
    });
  }

  function ensureRowsFor(form, name) {
    var parts = name.split("-");
    var scope = form;
    for (var i = 0; i + 1 < parts.length; i++) {
      if (!/^\d+$/.test(parts[i + 1])) { continue; }
      var container = findRepeat(form, scope, parts[i]);
      if (!container) { return; }
      var index = parseInt(parts[i + 1], 10);
      while (directRows(container).length <= index) { addRow(form, container, false); }
      scope = directRows(container)[index];
      i += 1;
    }
  }

  function applyFields(form, fields) {
    fields.forEach(function (pair) { ensureRowsFor(form, pair[0]); });
    var wanted = {};
    fields.forEach(function (pair) { (wanted[pair[0]] = wanted[pair[0]] || []).push(pair[1]); });
    window.FundappAutosave.controlsOf(form).forEach(function (el) {
      var values = wanted[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) !== -1;
      } else {
        el.value = values.length ? values[0] : "";
      }
    });
  }

  // -- word counts ------------------------------------------------------------------------------------

  var wordMessages = { words: "{words} of {limit} words", over: "over the limit" };

  function countWords(text) {
    var trimmed = text.trim();
    return trimmed ? trimmed.split(/\s+/).length : 0;
  }

  function updateWordCount(textarea) {
    var limit = parseInt(textarea.getAttribute("data-word-limit"), 10);
    var counter = document.querySelector('[data-word-count-for="' + textarea.id + '"]');
    if (!counter || !limit) { return; }
    var words = countWords(textarea.value);
    var over = words > limit;
    counter.textContent = wordMessages.words.replace("{words}", words).replace("{limit}", limit) +
      (over ? " · " + wordMessages.over : "");
    counter.classList.toggle("is-over", over);
    textarea.classList.toggle("word-limit-over", over);
  }

  function setupWordCounts(root) {
    root.querySelectorAll("textarea[data-word-limit]").forEach(updateWordCount);
  }

  // -- budget preview (exact: BigInt minor units, never floating point) -------------------------------

  function parseDecimal(text) {
    var cleaned = String(text || "").replace(/[\s\u00a0\u202f\u2009']/g, "");
    if (cleaned.indexOf(",") !== -1 && cleaned.indexOf(".") !== -1) { cleaned = cleaned.replace(/,/g, ""); }
    else if ((cleaned.match(/,/g) || []).length === 1) { cleaned = cleaned.replace(",", "."); }
    var match = /^(\d+)(?:\.(\d+))?$/.exec(cleaned);
    if (!match) { return null; }
    var decimals = match[2] || "";
    return { digits: BigInt(match[1] + decimals), places: decimals.length };
  }

  function scaled(number, places) {
    if (!number || number.places > places) { return null; }
    return number.digits * (BigInt(10) ** BigInt(places - number.places));
  }

  function divideHalfEven(numerator, denominator) {
    var quotient = numerator / denominator;
    var remainder = numerator % denominator;
    var twice = remainder * BigInt(2);
    if (twice > denominator || (twice === denominator && quotient % BigInt(2) === BigInt(1))) { quotient += BigInt(1); }
    return quotient;
  }

  function formatMinor(minor, exponent, currency) {
    var lang = document.documentElement.lang || "en";
    var decimalMark = (1.5).toLocaleString(lang).charAt(1);
    var text = minor.toString().padStart(exponent + 1, "0");
    var whole = exponent ? text.slice(0, -exponent) : text;
    var fraction = exponent ? text.slice(-exponent) : "";
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
    return whole + (fraction ? decimalMark + fraction : "") + "\u00a0" + currency;
  }

  function updateBudget(form) {
    var totals = form.querySelector("[data-budget-totals]");
    var lines = form.querySelector('[data-repeat="lines"]');
    if (!lines) { return; }
    var exponent = parseInt(form.getAttribute("data-currency-exponent") || "2", 10);
    var currency = form.getAttribute("data-currency") || "";
    var sum = { total: BigInt(0), cofinancing: BigInt(0), requested: BigInt(0) };
    var complete = true;
    directRows(lines).forEach(function (row) {
      function value(field) {
        var el = row.querySelector('[data-field="' + field + '"]');
        return el ? el.value : "";
      }
      var unitCost = scaled(parseDecimal(value("unit_cost")), exponent);
      var quantity = scaled(parseDecimal(value("quantity")), 2);
      var co = value("cofinancing").trim() ? scaled(parseDecimal(value("cofinancing")), exponent) : BigInt(0);
      var totalOut = row.querySelector("[data-line-total]");
      var requestedOut = row.querySelector("[data-line-requested]");
      var blank = !value("unit_cost").trim() && !value("quantity").trim();
      if (unitCost === null || quantity === null || co === null) {
        if (!blank) { complete = false; }
        if (totalOut) { totalOut.textContent = "—"; }
        if (requestedOut) { requestedOut.textContent = "—"; }
        return;
      }
      var line = divideHalfEven(unitCost * quantity, BigInt(100));
      sum.total += line;
      sum.cofinancing += co;
      sum.requested += line > co ? line - co : BigInt(0);
      if (totalOut) { totalOut.textContent = formatMinor(line, exponent, currency); }
      if (requestedOut) { requestedOut.textContent = formatMinor(line > co ? line - co : BigInt(0), exponent, currency); }
    });
    if (totals) {
      ["total", "cofinancing", "requested"].forEach(function (name) {
        var out = totals.querySelector('[data-total="' + name + '"]');
        if (out) { out.textContent = formatMinor(sum[name], exponent, currency) + (complete ? "" : " *"); }
      });
    }
  }

  // -- autosave (autosave.js) -------------------------------------------------------------------------

  function startAutosave(form) {
    var multi = (form.getAttribute("data-multi-fields") || "").split(" ").filter(Boolean);
    var autosave = new window.FundappAutosave.Autosave(form, {
      alert: document.querySelector("[data-editor-alert]"),
      debounceMs: DEBOUNCE_MS,
      payload: function (fields, baseVersion) {
        return { content: nest(fields, multi), base_version: baseVersion };
      },
      applyFields: applyFields,
      saved: function (data) { showMissing(data.missing); },
      refused: function (status, data, sentEdits) {
        if (status === 409 && data.merge_url) {
          this.stopped = true;
          if (sentEdits === this.edits) { this.dropDraft(); }
          this.setStatus(this.msg("conflict-short"), "error");
          this.showAlert(data.error || this.msg("conflict"), [{ href: data.merge_url, label: this.msg("merge") }]);
          return;
        }
        this.stopped = status === 403 || status === 404 || status === 409;
        this.setStatus(data.error || this.msg("frozen"), "error");
        this.showAlert(data.error || this.msg("frozen"));
      }
    });
    form.addEventListener("input", function () { autosave.changed(); });
    form.addEventListener("change", function () { autosave.changed(); });
    form.addEventListener("fundapp:rows-changed", function () { autosave.changed(); });
    form.addEventListener("submit", function (event) {
      if (!window.fetch) { return; } // let the browser post the form
      event.preventDefault();
      autosave.saveOrConfirm();
    });
    autosave.start();
  }

  function showMissing(missing) {
    var list = document.querySelector("[data-section-missing]");
    if (!list || !Array.isArray(missing)) { return; }
    list.textContent = "";
    missing.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item;
      list.appendChild(li);
    });
  }

  // -- wiring -----------------------------------------------------------------------------------------

  function setup(form) {
    wordMessages.words = form.getAttribute("data-msg-words") || wordMessages.words;
    wordMessages.over = form.getAttribute("data-msg-over") || wordMessages.over;
    removeSpareRows(form);
    revealButtons(form);
    renumber(form);
    setupWordCounts(form);
    updateBudget(form);

    form.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-row]");
      var remove = event.target.closest("[data-remove-row]");
      if (add) {
        addRow(form, add.closest("[data-repeat]"), true);
        form.dispatchEvent(new CustomEvent("fundapp:rows-changed"));
      } else if (remove) {
        var row = remove.closest("[data-row]");
        var container = row.closest("[data-repeat]");
        row.remove();
        renumber(form);
        updateBudget(form);
        var addButton = container.querySelector(":scope > [data-add-row]");
        if (addButton) { addButton.focus(); }
        form.dispatchEvent(new CustomEvent("fundapp:rows-changed"));
      }
    });
    form.addEventListener("input", function (event) {
      if (event.target.matches("textarea[data-word-limit]")) { updateWordCount(event.target); }
      updateBudget(form);
    });

    if (form.hasAttribute("data-autosave-url") && window.fetch && !form.hasAttribute("data-no-autosave")) {
      startAutosave(form);
      updateBudget(form);
    }
  }

  function init() {
    document.querySelectorAll("form[data-section-editor]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
