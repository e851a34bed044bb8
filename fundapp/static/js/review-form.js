/* The reviewer's form: autosave, a copy kept in the browser, and a submit that never loses a change.
 *
 * The form works without this script (Save and Submit post it and the server saves). With it, the same
 * approach as the proposal editor (proposal-editor.js):
 * - Every change is kept in localStorage (one key per user and assignment) before it is sent, and removed
 *   only when the server confirms the save. On load, a kept copy that differs from the page is restored.
 * - Saves go to the autosave URL as JSON ({scores, recommendation, comments, base_version}), 1.5 seconds
 *   after the last change and when the page is hidden.
 *   401: the login expired; retried every 15 seconds (and when the tab is shown again) after fetching a
 *   fresh CSRF token. 409 with a version: the review was saved in another window; the reviewer chooses to
 *   keep this version (saved on top of the other) or reload the saved one. 409 "locked": submitted or
 *   reopened elsewhere; nothing more is sent. 422: messages next to the fields.
 * - "Submit" waits for the last save to finish, then posts the form to the submit URL.
 * No inline scripts or styles: the page's Content-Security-Policy allows neither.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 1500;
  var RETRY_MS = 15000;
  var OFFLINE_RETRY_MS = 10000;

  function controlsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.name !== "base_version" &&
        el.type !== "button" && el.type !== "submit";
    });
  }

  function formFields(form) {
    var fields = [];
    controlsOf(form).forEach(function (el) {
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      fields.push([el.name, el.value]);
    });
    return fields;
  }

  function applyFields(form, fields) {
    var wanted = {};
    fields.forEach(function (pair) { wanted[pair[0]] = pair[1]; });
    controlsOf(form).forEach(function (el) {
      var value = Object.prototype.hasOwnProperty.call(wanted, el.name) ? wanted[el.name] : null;
      if (el.type === "checkbox" || el.type === "radio") { el.checked = value === el.value; }
      else { el.value = value === null ? "" : value; }
    });
  }

  function payloadOf(fields, baseVersion) {
    var body = { scores: {}, recommendation: "", comments: "", base_version: baseVersion };
    fields.forEach(function (pair) {
      if (pair[0].indexOf("score_") === 0) { body.scores[pair[0]] = pair[1]; }
      else if (pair[0] === "recommendation" || pair[0] === "comments") { body[pair[0]] = pair[1]; }
    });
    return body;
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) {
      el.textContent = "";
      el.classList.remove("d-block");
    });
    form.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
  }

  function showErrors(form, errors) {
    clearErrors(form);
    var unplaced = [];
    Object.keys(errors).forEach(function (name) {
      var feedback = form.querySelector('[data-error-for="' + name + '"]');
      if (!feedback) { unplaced.push(errors[name]); return; }
      feedback.textContent = errors[name];
      feedback.classList.add("d-block");
      form.querySelectorAll('[name="' + name + '"]').forEach(function (control) { control.classList.add("is-invalid"); });
    });
    return unplaced;
  }

  function ReviewForm(form) {
    this.form = form;
    this.url = form.getAttribute("data-autosave-url");
    this.csrfUrl = form.getAttribute("data-csrf-url");
    this.loginUrl = form.getAttribute("data-login-url");
    this.storageKey = form.getAttribute("data-storage-key");
    this.status = document.querySelector("[data-save-status]");
    this.alert = document.querySelector("[data-review-alert]");
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

  ReviewForm.prototype.msg = function (name) { return this.form.getAttribute("data-msg-" + name) || ""; };

  ReviewForm.prototype.setStatus = function (text, kind) {
    if (!this.status) { return; }
    this.status.textContent = text;
    this.status.className = "save-status text-end small" + (kind ? " save-status-" + kind : "");
  };

  ReviewForm.prototype.showAlert = function (text, actions) {
    if (!this.alert) { return; }
    this.alert.textContent = text + " ";
    (actions || []).forEach(function (action) {
      var el;
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
      this.alert.appendChild(document.createTextNode(" "));
    }, this);
    this.alert.classList.remove("d-none");
  };

  ReviewForm.prototype.hideAlert = function () {
    if (this.alert) { this.alert.classList.add("d-none"); this.alert.textContent = ""; }
  };

  ReviewForm.prototype.token = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };

  ReviewForm.prototype.refreshToken = function () {
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

  ReviewForm.prototype.setBase = function (version) {
    this.baseVersion = version;
    this.baseInput.value = String(version);
  };

  ReviewForm.prototype.keepDraft = function () {
    try {
      window.localStorage.setItem(this.storageKey, JSON.stringify({
        baseVersion: this.baseVersion, savedAt: Date.now(), fields: formFields(this.form)
      }));
    } catch (e) { /* storage full or disabled: the server copy is all we have */ }
  };

  ReviewForm.prototype.dropDraft = function () {
    try { window.localStorage.removeItem(this.storageKey); } catch (e) { /* nothing kept */ }
  };

  ReviewForm.prototype.restoreDraft = function () {
    var draft = null;
    try { draft = JSON.parse(window.localStorage.getItem(this.storageKey) || "null"); } catch (e) { draft = null; }
    if (!draft || !Array.isArray(draft.fields)) { return; }
    if (JSON.stringify(draft.fields) === JSON.stringify(formFields(this.form))) { this.dropDraft(); return; }
    applyFields(this.form, draft.fields);
    // Keep the version the copy was based on: if the review was saved since, the reviewer decides.
    if (typeof draft.baseVersion === "number") { this.setBase(draft.baseVersion); }
    if (this.restored) {
      this.restored.textContent = this.msg("restored");
      this.restored.classList.remove("d-none");
    }
    this.changed();
  };

  ReviewForm.prototype.dirty = function () { return this.edits !== this.savedEdits; };

  ReviewForm.prototype.changed = function () {
    this.edits += 1;
    this.keepDraft();
    if (this.stopped) { return; }
    if (!this.waitingForLogin) { this.setStatus(this.msg("unsaved"), "pending"); }
    this.schedule(DEBOUNCE_MS);
  };

  ReviewForm.prototype.schedule = function (ms) {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.save(false); }, ms);
  };

  ReviewForm.prototype.retryLater = function (ms) {
    var self = this;
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(function () {
      self.refreshToken().catch(function () { return null; }).then(function () { self.save(false); });
    }, ms);
  };

  /* Send the form if it changed; resolves when this save (and any it waited for) is answered. */
  ReviewForm.prototype.save = function (leaving, tokenRetried) {
    var self = this;
    if (this.inFlight) {
      return this.inFlight.then(function () { return self.save(leaving, tokenRetried); });
    }
    if (this.stopped || !this.dirty()) { return Promise.resolve(); }
    window.clearTimeout(this.timer);
    var sentEdits = this.edits;
    var body = JSON.stringify(payloadOf(formFields(this.form), this.baseVersion));
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

  ReviewForm.prototype.handle = function (status, data, sentEdits, tokenRetried) {
    var self = this;
    if (status === 200) {
      this.waitingForLogin = false;
      window.clearTimeout(this.retryTimer);
      this.hideAlert();
      clearErrors(this.form);
      this.setBase(data.version);
      this.savedEdits = sentEdits;
      if (this.dirty()) { this.keepDraft(); this.schedule(DEBOUNCE_MS); } else { this.dropDraft(); }
      this.setStatus(data.saved_at_label || this.msg("saved"), "saved");
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
    if (status === 409 && typeof data.version === "number") {
      this.stopped = true;
      this.setStatus(this.msg("conflict-short"), "error");
      this.showAlert(data.error || "", [
        { label: this.msg("keep"), run: function () { self.keepMine(data.version); } },
        { label: this.msg("reload"), run: function () { self.dropDraft(); window.location.reload(); } }
      ]);
      return null;
    }
    if (status === 422 && data.errors) {
      var unplaced = showErrors(this.form, data.errors);
      this.setStatus(this.msg("invalid"), "error");
      if (unplaced.length) { this.showAlert(unplaced.join(" ")); } else { this.hideAlert(); }
      return null;
    }
    this.stopped = true;
    if (status === 409 || status === 404) { this.dropDraft(); }
    this.setStatus(data.error || this.msg("locked"), "error");
    this.showAlert(data.error || this.msg("locked"));
    return null;
  };

  ReviewForm.prototype.keepMine = function (version) {
    this.stopped = false;
    this.hideAlert();
    this.setBase(version);
    this.savedEdits = this.edits - 1; // force a save of what the page shows
    this.save(false);
  };

  ReviewForm.prototype.submitWhenSaved = function (button) {
    var self = this;
    var form = this.form;
    button.disabled = true;
    this.save(false).then(function () {
      button.disabled = false;
      if (self.stopped || self.dirty() || self.waitingForLogin) { return; }
      self.dropDraft();
      form.action = button.getAttribute("formaction") || form.action;
      HTMLFormElement.prototype.submit.call(form);
    });
  };

  ReviewForm.prototype.start = function () {
    var self = this;
    var form = this.form;
    form.addEventListener("input", function () { self.changed(); });
    form.addEventListener("change", function (event) {
      // Radios fire no "input" in some browsers; text areas fire both (one save either way).
      if (event.target.type === "radio") { self.changed(); }
    });
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.hasAttribute("data-submit-button")) {
        if (self.dirty() || self.inFlight) { event.preventDefault(); self.submitWhenSaved(submitter); }
        else { self.dropDraft(); }
        return;
      }
      event.preventDefault();
      if (self.dirty()) { self.save(false); }
      else { self.setStatus((self.status && self.status.textContent) || self.msg("saved"), "saved"); }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { self.save(true); }
      else if (self.waitingForLogin || self.dirty()) {
        self.refreshToken().catch(function () { return null; }).then(function () { self.save(false); });
      }
    });
    window.addEventListener("pagehide", function () { self.save(true); });
    this.restoreDraft();
  };

  function init() {
    if (!window.fetch || !window.Promise) { return; } // the form posts as it is
    document.querySelectorAll("form[data-review-form][data-autosave-url]").forEach(function (form) {
      new ReviewForm(form).start();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
