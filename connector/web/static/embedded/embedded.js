// The embedded app's page: every call carries a fresh session token from App Bridge
// (shopify.idToken()); without App Bridge, the token the admin launched the page with.
(function () {
  "use strict";
  var root = document.getElementById("app");
  var api = root.dataset.api;
  var launchToken = root.dataset.launchToken;
  var toast = document.getElementById("toast");
  var main = document.getElementById("main");

  function sessionToken() {
    if (window.shopify && typeof window.shopify.idToken === "function") {
      return Promise.resolve(window.shopify.idToken());
    }
    return Promise.resolve(launchToken);
  }

  function call(method, path, body) {
    return sessionToken().then(function (token) {
      var headers = { Authorization: "Bearer " + token };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return fetch(api + path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
      });
    });
  }

  function say(text, ok) {
    toast.textContent = text;
    toast.className = "Polaris-Banner " + (ok ? "Polaris-Banner--success" : "Polaris-Banner--critical");
    toast.hidden = false;
    if (ok && window.shopify && window.shopify.toast) window.shopify.toast.show(text);
  }

  function refresh() {
    return call("GET", "/view").then(function (answer) {
      if (!answer.ok) return;
      return answer.text().then(function (html) {
        main.innerHTML = html;
        main.dataset.refreshed = String(Date.now());
      });
    });
  }

  function act(path, body, button) {
    if (button) button.disabled = true;
    return call("POST", path, body)
      .then(function (answer) {
        return answer.json().catch(function () { return {}; }).then(function (data) {
          say(data.message || data.error || "Done", answer.ok);
          if (answer.ok && data.confirmation_url) {
            window.open(data.confirmation_url, "_top"); // the platform's confirmation page
            return;
          }
          return refresh();
        });
      })
      .finally(function () { if (button) button.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    event.preventDefault();
    act(button.dataset.action, undefined, button);
  });

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "settings") return;
    event.preventDefault();
    var form = new FormData(event.target);
    var body = {};
    form.forEach(function (value, key) { body[key] = value; });
    act("/settings", body, event.target.querySelector("button[type=submit]"));
  });

  window.setInterval(refresh, 5000); // work finishes in the background
})();
