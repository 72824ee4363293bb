// Sandbox stand-in for App Bridge (https://cdn.shopify.com/shopifycloud/app-bridge.js).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="shopify-api-key"]');
  var params = new URLSearchParams(window.location.search);
  var ancestors = window.location.ancestorOrigins;
  var adminOrigin = ancestors && ancestors.length ? ancestors[0]
    : (document.referrer ? new URL(document.referrer).origin : null);
  var waiting = {}, next = 0;
  function send(message) { if (adminOrigin) window.parent.postMessage(message, adminOrigin); }
  window.addEventListener("message", function (event) {
    if (event.origin !== adminOrigin) return;
    var message = event.data || {};
    if (message.type === "shopify:idToken:reply" && waiting[message.id]) {
      waiting[message.id](message.token);
      delete waiting[message.id];
    }
  });
  var open = window.open.bind(window);
  window.open = function (url, target, features) {
    if (target === "_top" || target === "_parent") {
      send({type: "shopify:redirect", url: String(url)});
      return null;
    }
    return open(url, target, features);
  };
  window.shopify = {
    config: {apiKey: meta ? meta.content : null, shop: params.get("shop"), host: params.get("host")},
    idToken: function () {
      return new Promise(function (resolve) {
        var id = ++next;
        waiting[id] = resolve;
        send({type: "shopify:idToken", id: id});
      });
    },
    toast: {show: function (text) { send({type: "shopify:toast", message: String(text)}); }},
  };
})();
