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

  // Passkeys (WebAuthn). Browsers expose the ceremony only to scripts, so these buttons appear
  // only when the browser can use them; every page also offers a way without a passkey.
  function fromB64u(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) { s += '='; }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toB64u(buf) {
    if (!buf) { return null; }
    var bytes = new Uint8Array(buf);
    var s = '';
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function postJson(url, csrf, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { throw new Error(j.detail || 'Не получилось. Попробуйте ещё раз'); }
        return j;
      });
    });
  }

  function explain(err) {
    if (err && (err.name === 'NotAllowedError' || err.name === 'AbortError')) {
      return 'Действие отменено или время ожидания истекло. Попробуйте ещё раз';
    }
    if (err && err.name === 'InvalidStateError') {
      return 'Этот ключ уже добавлен';
    }
    return (err && err.message) || 'Не получилось. Попробуйте ещё раз';
  }

  function withIds(list) {
    return (list || []).map(function (c) { c.id = fromB64u(c.id); return c; });
  }

  function register(box, csrf) {
    var label = box.querySelector('input[name="label"]');
    return postJson(box.getAttribute('data-options-url'), csrf).then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = fromB64u(pk.challenge);
      pk.user.id = fromB64u(pk.user.id);
      pk.excludeCredentials = withIds(pk.excludeCredentials);
      return navigator.credentials.create({ publicKey: pk });
    }).then(function (cred) {
      return postJson(box.getAttribute('data-finish-url'), csrf, {
        label: label ? label.value : '',
        credential: {
          id: cred.id,
          rawId: toB64u(cred.rawId),
          type: cred.type,
          response: {
            attestationObject: toB64u(cred.response.attestationObject),
            clientDataJSON: toB64u(cred.response.clientDataJSON)
          },
          extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
        }
      });
    });
  }

  function authenticate(box, csrf) {
    return postJson(box.getAttribute('data-options-url'), csrf).then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = fromB64u(pk.challenge);
      pk.allowCredentials = withIds(pk.allowCredentials);
      return navigator.credentials.get({ publicKey: pk });
    }).then(function (cred) {
      return postJson(box.getAttribute('data-finish-url'), csrf, {
        credential: {
          id: cred.id,
          rawId: toB64u(cred.rawId),
          type: cred.type,
          response: {
            authenticatorData: toB64u(cred.response.authenticatorData),
            clientDataJSON: toB64u(cred.response.clientDataJSON),
            signature: toB64u(cred.response.signature),
            userHandle: toB64u(cred.response.userHandle)
          },
          extensions: {}
        }
      });
    });
  }

  function passkeys() {
    if (!window.PublicKeyCredential || !window.fetch || !navigator.credentials) { return; }
    var boxes = document.querySelectorAll('[data-passkey], [data-passkey-register]');
    Array.prototype.forEach.call(boxes, function (box) {
      var button = box.querySelector('[data-passkey-start]');
      var error = box.querySelector('[data-passkey-error]');
      var csrf = box.getAttribute('data-csrf');
      var run = box.hasAttribute('data-passkey-register') ? register : authenticate;
      if (!button) { return; }
      box.hidden = false;
      button.hidden = false;
      button.addEventListener('click', function () {
        button.disabled = true;
        error.hidden = true;
        run(box, csrf).then(function (result) {
          window.location.assign(result.redirect || '/cabinet');
        }).catch(function (err) {
          error.textContent = explain(err);
          error.hidden = false;
          button.disabled = false;
        });
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    focusErrors();
    poll();
    countdown();
    passkeys();
  });
}());
