// Progressive enhancement only: every flow works without this file.
(function () {
  'use strict';

  // Move focus to the error summary so screen readers announce the errors first.
  function focusErrors() {
    var summary = document.querySelector('.error-summary');
    if (summary) { summary.focus(); }
  }

  // Pages that wait for something (a registry check, an e-mail link) ask the server every few
  // seconds and move on when the state changes, instead of reloading on a timer (which would
  // interrupt screen-reader and keyboard users).
  function poll() {
    var el = document.querySelector('[data-poll-url]');
    if (!el || !window.fetch) { return; }
    var url = el.getAttribute('data-poll-url');
    var field = el.getAttribute('data-poll-field');
    var waiting = el.getAttribute('data-poll-while');
    var next = el.getAttribute('data-poll-next');
    var tries = 0;
    function check() {
      tries += 1;
      fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && String(data[field]) !== waiting) {
            window.location.assign(next);
          } else if (tries < 200) {
            window.setTimeout(check, 3000);
          }
        })
        .catch(function () { if (tries < 200) { window.setTimeout(check, 5000); } });
    }
    window.setTimeout(check, 3000);
  }

  // «Получить код повторно через 0:45»: a countdown on the resend hint; the server enforces
  // the wait either way.
  function countdown() {
    var hint = document.getElementById('resend-hint');
    if (!hint) { return; }
    var left = parseInt(hint.getAttribute('data-wait') || '0', 10);
    if (!(left > 0)) { return; }
    var what = hint.textContent.indexOf('письмо') >= 0 ? 'письмо' : 'код';
    function tick() {
      left -= 1;
      if (left <= 0) { hint.textContent = ''; return; }
      var m = Math.floor(left / 60), s = left % 60;
      hint.textContent = 'Получить ' + what + ' повторно можно через ' + m + ':' + (s < 10 ? '0' : '') + s + '.';
      window.setTimeout(tick, 1000);
    }
    window.setTimeout(tick, 1000);
  }

  document.addEventListener('DOMContentLoaded', function () {
    focusErrors();
    poll();
    countdown();
  });
}());
