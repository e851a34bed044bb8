/* The reviewer's form: autosave, a copy kept in the browser, and a submit that never loses a change.
 *
 * The form works without this script (Save and Submit post it and the server saves). With it, the same
 * autosave as the proposal editor (autosave.js, loaded before this script):
 * - One key per user and assignment in localStorage; saves go as JSON ({scores, recommendation, comments,
 *   base_version}), 1.5 seconds after the last change and when the page is hidden.
 * - 409 with a version: the review was saved in another window; the reviewer chooses to keep this version
 *   (saved on top of the other) or reload the saved one. 409 "locked": submitted or reopened elsewhere;
 *   nothing more is sent.
 * - "Submit" waits for the last save to finish, then posts the form to the submit URL.
 * No inline scripts or styles: the page's Content-Security-Policy allows neither.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 1500;

  function applyFields(form, fields) {
    var wanted = {};
    fields.forEach(function (pair) { wanted[pair[0]] = pair[1]; });
    window.FundappAutosave.controlsOf(form).forEach(function (el) {
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

  /* What the server's refusals mean here; ``this`` is the form's Autosave. */
  function refused(status, data) {
    var self = this;
    this.stopped = true;
    if (status === 409 && typeof data.version === "number") {
      this.setStatus(this.msg("conflict-short"), "error");
      this.showAlert(data.error || "", [
        { label: this.msg("keep"), run: function () { keepMine(self, data.version); } },
        { label: this.msg("reload"), run: function () { self.dropDraft(); window.location.reload(); } }
      ]);
      return;
    }
    if (status === 409 || status === 404) { this.dropDraft(); }
    this.setStatus(data.error || this.msg("locked"), "error");
    this.showAlert(data.error || this.msg("locked"));
  }

  function keepMine(autosave, version) {
    autosave.stopped = false;
    autosave.hideAlert();
    autosave.setBase(version);
    autosave.savedEdits = autosave.edits - 1; // force a save of what the page shows
    autosave.save(false);
  }

  function submitWhenSaved(autosave, button) {
    var form = autosave.form;
    button.disabled = true;
    autosave.save(false).then(function () {
      button.disabled = false;
      if (autosave.stopped || autosave.dirty() || autosave.waitingForLogin) { return; }
      autosave.dropDraft();
      form.action = button.getAttribute("formaction") || form.action;
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  function start(form) {
    var autosave = new window.FundappAutosave.Autosave(form, {
      alert: document.querySelector("[data-review-alert]"),
      debounceMs: DEBOUNCE_MS,
      payload: payloadOf,
      applyFields: applyFields,
      refused: refused
    });
    form.addEventListener("input", function () { autosave.changed(); });
    form.addEventListener("change", function (event) {
      // Radios fire no "input" in some browsers; text areas fire both (one save either way).
      if (event.target.type === "radio") { autosave.changed(); }
    });
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.hasAttribute("data-submit-button")) {
        if (autosave.dirty() || autosave.inFlight) { event.preventDefault(); submitWhenSaved(autosave, submitter); }
        else { autosave.dropDraft(); }
        return;
      }
      event.preventDefault();
      autosave.saveOrConfirm();
    });
    autosave.start();
  }

  function init() {
    if (!window.fetch || !window.Promise) { return; } // the form posts as it is
    document.querySelectorAll("form[data-review-form][data-autosave-url]").forEach(start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
