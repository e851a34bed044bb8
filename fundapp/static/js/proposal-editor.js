/* The proposal section editor: rows that repeat, live word counts, a budget preview and autosave.
 *
 * The form works without this script (it posts and the server saves). With it:
 * - "Add" and "Remove" buttons manage repeating rows; names ("lines-2-unit_cost") are renumbered from
 *   the rows' positions, so the server reads the same structure either way.
 * - Every change is kept in localStorage (one key per user, proposal and section) before it is sent, and
 *   removed only when the server confirms the save: an expired login, a lost connection or a closed tab
 *   never loses typing. On load, a kept draft that differs from the page is restored.
 * - Saves go to the autosave URL as JSON, 2 seconds after the last keystroke and when the page is hidden.
 *   401: the login expired; retried every 15 seconds (and when the tab is shown again) after fetching a
 *   fresh CSRF token. 409: someone else saved; the server kept this version, a link leads to the merge.
 *   422: field errors are shown next to the fields.
 * No inline scripts or styles: the page's Content-Security-Policy allows neither.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 2000;
  var RETRY_MS = 15000;
  var OFFLINE_RETRY_MS = 10000;

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

  function controlsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.name !== "base_version" && el.name !== "save" &&
        el.type !== "button" && el.type !== "submit";
    });
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

  function formFields(form) {
    var fields = [];
    controlsOf(form).forEach(function (el) {
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      fields.push([el.name, el.value]);
    });
    return fields;
  }

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
    controlsOf(form).forEach(function (el) {
      var values = wanted[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) !== -1;
      } else {
        el.value = values.length ? values[0] : "";
      }
    });
  }

  function sameFields(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
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

  // -- errors from the server -------------------------------------------------------------------------

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) {
      el.textContent = "";
      el.classList.remove("d-block");
    });
    form.querySelectorAll(".is-invalid").forEach(function (el) {
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
    });
  }

  function showErrors(form, errors) {
    clearErrors(form);
    var unplaced = [];
    Object.keys(errors).forEach(function (name) {
      var feedback = form.querySelector('[data-error-for="' + name + '"]');
      var controls = form.querySelectorAll('[name="' + name + '"]');
      if (!feedback) { unplaced.push(errors[name]); return; }
      feedback.textContent = errors[name];
      feedback.classList.add("d-block");
      controls.forEach(function (control) {
        control.classList.add("is-invalid");
        control.setAttribute("aria-invalid", "true");
        var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (described.indexOf(feedback.id) === -1) { described.push(feedback.id); }
        control.setAttribute("aria-describedby", described.join(" "));
      });
    });
    return unplaced;
  }

  // -- autosave ---------------------------------------------------------------------------------------

  function Editor(form) {
    this.form = form;
    this.url = form.getAttribute("data-autosave-url");
    this.csrfUrl = form.getAttribute("data-csrf-url");
    this.loginUrl = form.getAttribute("data-login-url");
    this.storageKey = form.getAttribute("data-storage-key");
    this.multi = (form.getAttribute("data-multi-fields") || "").split(" ").filter(Boolean);
    this.status = document.querySelector("[data-save-status]");
    this.alert = document.querySelector("[data-editor-alert]");
    this.restored = document.querySelector("[data-restored-notice]");
    this.baseInput = form.querySelector('input[name="base_version"]');
    this.baseVersion = parseInt(this.baseInput.value || "0", 10);
    this.edits = 0; // raised by every change; a save clears the draft only if nothing changed meanwhile
    this.savedEdits = 0;
    this.timer = null;
    this.retryTimer = null;
    this.inFlight = false;
    this.again = false;
    this.stopped = false;
    this.waitingForLogin = false;
  }

  Editor.prototype.msg = function (name) {
    return this.form.getAttribute("data-msg-" + name) || "";
  };

  Editor.prototype.setStatus = function (text, kind) {
    if (!this.status) { return; }
    this.status.textContent = text;
    this.status.className = "save-status text-end small" + (kind ? " save-status-" + kind : "");
  };

  Editor.prototype.showAlert = function (text, link, linkText, newTab) {
    if (!this.alert) { return; }
    this.alert.textContent = text + " ";
    if (link) {
      var a = document.createElement("a");
      a.href = link;
      a.textContent = linkText;
      if (newTab) { a.target = "_blank"; a.rel = "noopener"; }
      this.alert.appendChild(a);
    }
    this.alert.classList.remove("d-none");
  };

  Editor.prototype.hideAlert = function () {
    if (this.alert) { this.alert.classList.add("d-none"); this.alert.textContent = ""; }
  };

  Editor.prototype.token = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };

  Editor.prototype.setToken = function (token) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { meta.setAttribute("content", token); }
    document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) { input.value = token; });
  };

  Editor.prototype.keepDraft = function () {
    try {
      window.localStorage.setItem(this.storageKey, JSON.stringify({
        baseVersion: this.baseVersion, savedAt: Date.now(), fields: formFields(this.form)
      }));
    } catch (e) { /* storage full or disabled: the server copy is all we have */ }
  };

  Editor.prototype.dropDraft = function () {
    try { window.localStorage.removeItem(this.storageKey); } catch (e) { /* nothing kept */ }
  };

  Editor.prototype.restoreDraft = function () {
    var draft = null;
    try { draft = JSON.parse(window.localStorage.getItem(this.storageKey) || "null"); } catch (e) { draft = null; }
    if (!draft || !Array.isArray(draft.fields)) { return; }
    if (sameFields(draft.fields, formFields(this.form))) { this.dropDraft(); return; }
    applyFields(this.form, draft.fields);
    // Keep the version the draft was based on: if someone saved since, the save becomes a conflict to merge.
    this.baseVersion = typeof draft.baseVersion === "number" ? draft.baseVersion : this.baseVersion;
    this.baseInput.value = String(this.baseVersion);
    if (this.restored) {
      this.restored.textContent = this.msg("restored");
      this.restored.classList.remove("d-none");
    }
    this.changed();
  };

  Editor.prototype.changed = function () {
    if (this.stopped) { this.keepDraft(); return; }
    this.edits += 1;
    this.keepDraft();
    if (!this.waitingForLogin) { this.setStatus(this.msg("unsaved"), "pending"); }
    window.clearTimeout(this.timer);
    var self = this;
    this.timer = window.setTimeout(function () { self.save(false); }, DEBOUNCE_MS);
  };

  Editor.prototype.dirty = function () {
    return this.edits !== this.savedEdits;
  };

  Editor.prototype.refreshToken = function () {
    var self = this;
    return fetch(this.csrfUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) { if (data && data.token) { self.setToken(data.token); } });
  };

  Editor.prototype.retryLater = function (ms) {
    var self = this;
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(function () {
      self.refreshToken().catch(function () { return null; }).then(function () { self.save(false); });
    }, ms);
  };

  Editor.prototype.save = function (leaving, tokenRetried) {
    if (this.stopped || !this.dirty()) { return Promise.resolve(); }
    if (this.inFlight) { this.again = true; return Promise.resolve(); }
    window.clearTimeout(this.timer);
    var self = this;
    var sentEdits = this.edits;
    var body = JSON.stringify({ content: nest(formFields(this.form), this.multi), base_version: this.baseVersion });
    this.inFlight = true;
    if (!this.waitingForLogin) { this.setStatus(this.msg("saving"), "pending"); }
    return fetch(this.url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!leaving,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": this.token() },
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        self.inFlight = false;
        return self.handle(response.status, data, sentEdits, tokenRetried);
      });
    }, function () {
      self.inFlight = false;
      self.setStatus(self.msg("offline"), "error");
      self.retryLater(OFFLINE_RETRY_MS);
    }).then(function () {
      if (self.again && !self.stopped) { self.again = false; return self.save(false); }
    });
  };

  Editor.prototype.handle = function (status, data, sentEdits, tokenRetried) {
    var self = this;
    if (status === 200) {
      this.waitingForLogin = false;
      window.clearTimeout(this.retryTimer);
      this.hideAlert();
      clearErrors(this.form);
      this.baseVersion = data.version;
      this.baseInput.value = String(data.version);
      this.savedEdits = sentEdits;
      if (this.dirty()) { this.keepDraft(); this.changedSinceSend(); } else { this.dropDraft(); }
      this.setStatus(data.saved_at_label || this.msg("saved"), "saved");
      this.showMissing(data.missing);
      return null;
    }
    if (status === 400 && data.csrf_url && !tokenRetried) {
      return this.refreshToken().then(function () { return self.save(false, true); });
    }
    if (status === 401 || (status === 400 && data.csrf_url)) {
      this.waitingForLogin = true;
      this.setStatus(this.msg("expired-short"), "error");
      this.showAlert(this.msg("expired"), data.login_url || this.loginUrl, this.msg("login"), true);
      this.retryLater(RETRY_MS);
      return null;
    }
    if (status === 409 && data.merge_url) {
      this.stopped = true;
      if (sentEdits === this.edits) { this.dropDraft(); }
      this.setStatus(this.msg("conflict-short"), "error");
      this.showAlert(data.error || this.msg("conflict"), data.merge_url, this.msg("merge"), false);
      return null;
    }
    if (status === 422 && data.errors) {
      var unplaced = showErrors(this.form, data.errors);
      this.setStatus(this.msg("invalid"), "error");
      if (unplaced.length) { this.showAlert(unplaced.join(" "), null); } else { this.hideAlert(); }
      return null;
    }
    this.stopped = status === 403 || status === 404 || status === 409;
    this.setStatus(data.error || this.msg("frozen"), "error");
    this.showAlert(data.error || this.msg("frozen"), null);
    return null;
  };

  Editor.prototype.changedSinceSend = function () {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.save(false); }, DEBOUNCE_MS);
  };

  Editor.prototype.showMissing = function (missing) {
    var list = document.querySelector("[data-section-missing]");
    if (!list || !Array.isArray(missing)) { return; }
    list.textContent = "";
    missing.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item;
      list.appendChild(li);
    });
  };

  Editor.prototype.start = function () {
    var self = this;
    var form = this.form;
    form.addEventListener("input", function () { self.changed(); });
    form.addEventListener("change", function () { self.changed(); });
    form.addEventListener("fundapp:rows-changed", function () { self.changed(); });
    form.addEventListener("submit", function (event) {
      if (!window.fetch) { return; } // let the browser post the form
      event.preventDefault();
      if (self.dirty()) { self.save(false); } else { self.setStatus(self.status.textContent || self.msg("saved"), "saved"); }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { self.save(true); }
      else if (self.waitingForLogin || self.dirty()) { self.refreshToken().catch(function () { return null; }).then(function () { self.save(false); }); }
    });
    window.addEventListener("pagehide", function () { self.save(true); });
    this.restoreDraft();
  };

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
      new Editor(form).start();
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
