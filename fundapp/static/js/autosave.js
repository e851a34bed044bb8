/* Autosave of a form, shared by the proposal editor (proposal-editor.js) and the review form (review-form.js).
 *
 * Defines one global, window.FundappAutosave; load this script before the scripts that use it. The form works
 * without it (it posts and the server saves). With it:
 * - Every change is kept in localStorage (the form's data-storage-key) before it is sent, and removed only
 *   when the server confirms the save: an expired login, a lost connection or a closed tab never loses
 *   typing. On load, a kept copy that differs from the page is restored.
 * - Saves go to the form's data-autosave-url as JSON with the CSRF token of <meta name="csrf-token"> in
 *   X-CSRFToken, a moment after the last change and when the page is hidden (keepalive, so the request
 *   outlives the page). One save is sent at a time; a save asked for meanwhile follows it.
 * - 200: "Saved at ..." in the status (an aria-live region). 400 with csrf_url: the token is fetched again
 *   from data-csrf-url and the save retried once. 401: the login expired; the text stays in the browser, a
 *   link opens the login page in a new tab, and the save is retried every 15 seconds (and when the tab is
 *   shown again) after fetching a fresh token. 422: messages next to the fields. Anything else (409
 *   conflicts, a frozen form) is left to the form's own script.
 * Messages come from the form's data-msg-* attributes. No inline scripts or styles: the page's
 * Content-Security-Policy allows neither.
 */
(function () {
  "use strict";

  var RETRY_MS = 15000;
  var OFFLINE_RETRY_MS = 10000;

  /* The controls whose values are the form's content (not the token, the version or the buttons). */
  function controlsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.name !== "base_version" && el.name !== "save" &&
        el.type !== "button" && el.type !== "submit";
    });
  }

  /* The form's content as [name, value] pairs, in the order of the page. */
  function formFields(form) {
    var fields = [];
    controlsOf(form).forEach(function (el) {
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      fields.push([el.name, el.value]);
    });
    return fields;
  }

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

  /* Show each error next to its field; returns the messages that have no place on the page. */
  function showErrors(form, errors) {
    clearErrors(form);
    var unplaced = [];
    Object.keys(errors).forEach(function (name) {
      var feedback = form.querySelector('[data-error-for="' + name + '"]');
      if (!feedback) { unplaced.push(errors[name]); return; }
      feedback.textContent = errors[name];
      feedback.classList.add("d-block");
      form.querySelectorAll('[name="' + name + '"]').forEach(function (control) {
        control.classList.add("is-invalid");
        control.setAttribute("aria-invalid", "true");
        if (!feedback.id) { return; }
        var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (described.indexOf(feedback.id) === -1) { described.push(feedback.id); }
        control.setAttribute("aria-describedby", described.join(" "));
      });
    });
    return unplaced;
  }

  /* Autosave of one form. options:
   *   alert: the element for messages with links or buttons (hidden with d-none when empty);
   *   debounceMs: how long after the last change a save is sent;
   *   payload(fields, baseVersion): the JSON body of a save, from formFields();
   *   applyFields(form, fields): puts kept fields back into the form;
   *   saved(data): optional, after a save the server confirmed;
   *   refused(status, data, sentEdits): any other answer than 200, 400 (token), 401 and 422; called on
   *     the Autosave (this), it sets this.stopped when nothing more should be sent.
   * start() listens for the page being hidden or shown and restores a kept copy; the form's own script
   * calls changed() when the form changes and saveOrConfirm() for its Save button.
   */
  function Autosave(form, options) {
    this.form = form;
    this.options = options;
    this.url = form.getAttribute("data-autosave-url");
    this.csrfUrl = form.getAttribute("data-csrf-url");
    this.loginUrl = form.getAttribute("data-login-url");
    this.storageKey = form.getAttribute("data-storage-key");
    this.status = document.querySelector("[data-save-status]");
    this.alert = options.alert;
    this.restored = document.querySelector("[data-restored-notice]");
    this.baseInput = form.querySelector('input[name="base_version"]');
    this.baseVersion = parseInt(this.baseInput.value || "0", 10);
    this.edits = 0; // raised by every change; a save clears the kept copy only if nothing changed meanwhile
    this.savedEdits = 0;
    this.timer = null;
    this.retryTimer = null;
    this.inFlight = null; // the promise of the save being sent
    this.stopped = false;
    this.waitingForLogin = false;
  }

  Autosave.prototype.msg = function (name) {
    return this.form.getAttribute("data-msg-" + name) || "";
  };

  Autosave.prototype.setStatus = function (text, kind) {
    if (!this.status) { return; }
    this.status.textContent = text;
    this.status.className = "save-status text-end small" + (kind ? " save-status-" + kind : "");
  };

  /* Show text, then each action: a link ({href, label, newTab}) or a button ({label, run}). */
  Autosave.prototype.showAlert = function (text, actions) {
    if (!this.alert) { return; }
    this.alert.textContent = text + " ";
    (actions || []).forEach(function (action, index) {
      var el;
      if (index) { this.alert.appendChild(document.createTextNode(" ")); }
      if (action.href) {
        el = document.createElement("a");
        el.href = action.href;
        if (action.newTab) { el.target = "_blank"; el.rel = "noopener"; }
      } else {
        el = document.createElement("button");
        el.type = "button";
        el.className = "btn btn-sm btn-outline-secondary ms-1";
        el.addEventListener("click", action.run);
      }
      el.textContent = action.label;
      this.alert.appendChild(el);
    }, this);
    this.alert.classList.remove("d-none");
  };

  Autosave.prototype.hideAlert = function () {
    if (this.alert) { this.alert.classList.add("d-none"); this.alert.textContent = ""; }
  };

  Autosave.prototype.token = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };

  Autosave.prototype.refreshToken = function () {
    if (!this.csrfUrl) { return Promise.resolve(); }
    return fetch(this.csrfUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (!data || !data.token) { return; }
        var meta = document.querySelector('meta[name="csrf-token"]');
        if (meta) { meta.setAttribute("content", data.token); }
        document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) { input.value = data.token; });
      });
  };

  Autosave.prototype.setBase = function (version) {
    this.baseVersion = version;
    this.baseInput.value = String(version);
  };

  Autosave.prototype.keepDraft = function () {
    try {
      window.localStorage.setItem(this.storageKey, JSON.stringify({
        baseVersion: this.baseVersion, savedAt: Date.now(), fields: formFields(this.form)
      }));
    } catch (e) { /* storage full or disabled: the server copy is all we have */ }
  };

  Autosave.prototype.dropDraft = function () {
    try { window.localStorage.removeItem(this.storageKey); } catch (e) { /* nothing kept */ }
  };

  Autosave.prototype.restoreDraft = function () {
    var draft = null;
    try { draft = JSON.parse(window.localStorage.getItem(this.storageKey) || "null"); } catch (e) { draft = null; }
    if (!draft || !Array.isArray(draft.fields)) { return; }
    if (JSON.stringify(draft.fields) === JSON.stringify(formFields(this.form))) { this.dropDraft(); return; }
    this.options.applyFields(this.form, draft.fields);
    // Keep the version the copy was based on: if someone saved since, the save becomes a conflict.
    if (typeof draft.baseVersion === "number") { this.setBase(draft.baseVersion); }
    if (this.restored) {
      this.restored.textContent = this.msg("restored");
      this.restored.classList.remove("d-none");
    }
    this.changed();
  };

  Autosave.prototype.dirty = function () { return this.edits !== this.savedEdits; };

  Autosave.prototype.changed = function () {
    this.edits += 1;
    this.keepDraft();
    if (this.stopped) { return; }
    if (!this.waitingForLogin) { this.setStatus(this.msg("unsaved"), "pending"); }
    this.schedule();
  };

  Autosave.prototype.schedule = function () {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.save(false); }, this.options.debounceMs);
  };

  Autosave.prototype.retryLater = function (ms) {
    var self = this;
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(function () {
      self.refreshToken().catch(function () { return null; }).then(function () { self.save(false); });
    }, ms);
  };

  /* Send the form if it changed; resolves when this save (and any it waited for) is answered. */
  Autosave.prototype.save = function (leaving, tokenRetried) {
    var self = this;
    if (this.inFlight) {
      return this.inFlight.then(function () { return self.save(leaving, tokenRetried); });
    }
    if (this.stopped || !this.dirty()) { return Promise.resolve(); }
    window.clearTimeout(this.timer);
    var sentEdits = this.edits;
    var body = JSON.stringify(this.options.payload(formFields(this.form), this.baseVersion));
    if (!this.waitingForLogin) { this.setStatus(this.msg("saving"), "pending"); }
    this.inFlight = fetch(this.url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!leaving,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": this.token() },
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        self.inFlight = null;
        return self.handle(response.status, data, sentEdits, tokenRetried);
      });
    }, function () {
      self.inFlight = null;
      self.setStatus(self.msg("offline"), "error");
      self.retryLater(OFFLINE_RETRY_MS);
    });
    return this.inFlight;
  };

  Autosave.prototype.handle = function (status, data, sentEdits, tokenRetried) {
    var self = this;
    if (status === 200) {
      this.waitingForLogin = false;
      window.clearTimeout(this.retryTimer);
      this.hideAlert();
      clearErrors(this.form);
      this.setBase(data.version);
      this.savedEdits = sentEdits;
      if (this.dirty()) { this.keepDraft(); this.schedule(); } else { this.dropDraft(); }
      this.setStatus(data.saved_at_label || this.msg("saved"), "saved");
      if (this.options.saved) { this.options.saved.call(this, data); }
      return null;
    }
    if (status === 400 && data.csrf_url && !tokenRetried) {
      return this.refreshToken().then(function () { return self.save(false, true); });
    }
    if (status === 401 || (status === 400 && data.csrf_url)) {
      this.waitingForLogin = true;
      this.setStatus(this.msg("expired-short"), "error");
      this.showAlert(this.msg("expired"), [{ href: data.login_url || this.loginUrl, label: this.msg("login"), newTab: true }]);
      this.retryLater(RETRY_MS);
      return null;
    }
    if (status === 422 && data.errors) {
      var unplaced = showErrors(this.form, data.errors);
      this.setStatus(this.msg("invalid"), "error");
      if (unplaced.length) { this.showAlert(unplaced.join(" ")); } else { this.hideAlert(); }
      return null;
    }
    this.options.refused.call(this, status, data, sentEdits);
    return null;
  };

  /* The Save button: save now, or confirm what the status already says. */
  Autosave.prototype.saveOrConfirm = function () {
    if (this.dirty()) { this.save(false); }
    else { this.setStatus((this.status && this.status.textContent) || this.msg("saved"), "saved"); }
  };

  Autosave.prototype.start = function () {
    var self = this;
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { self.save(true); }
      else if (self.waitingForLogin || self.dirty()) {
        self.refreshToken().catch(function () { return null; }).then(function () { self.save(false); });
      }
    });
    window.addEventListener("pagehide", function () { self.save(true); });
    this.restoreDraft();
  };

  window.FundappAutosave = { Autosave: Autosave, controlsOf: controlsOf };
})();
