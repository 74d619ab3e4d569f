// Small progressive enhancements for the BizOSaaS web shell. Every page works without this.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  onReady(function () {
    // Dismissable flash messages.
    document.querySelectorAll("[data-dismiss]").forEach(function (button) {
      button.addEventListener("click", function () {
        var alert = button.closest(".alert");
        if (alert) alert.remove();
      });
    });

    // At phone width the side navigation is a scrolling strip: bring the current page into view.
    showCurrentNavItem();
    window.addEventListener("resize", showCurrentNavItem);

    // Destructive actions ask first (delegated, so refreshed regions are covered too).
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") &&
          !window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });

    // Forms marked data-in-place post without leaving the page: the answer (the page the
    // form redirects to) replaces the live region and the flash messages. Without script they
    // post and redirect as usual.
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-in-place") ||
          event.defaultPrevented) return;
      event.preventDefault();
      var data = new FormData(form);
      if (event.submitter && event.submitter.name) {
        data.append(event.submitter.name, event.submitter.value);
      }
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
      fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) { form.submit(); return; }
          replaceFromPage(html);
        })
        .catch(function () { form.submit(); });
    });

    // The tenant switcher submits on change; its button stays for keyboard and no-JS users.
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      var select = form.querySelector("select");
      if (select) select.addEventListener("change", function () { form.requestSubmit(); });
    });

    // Choices that show another state of the page (a storefront's variant picker) apply on
    // change; their form's button stays for keyboard and no-JS users.
    document.querySelectorAll("[data-autosubmit-change]").forEach(function (input) {
      input.addEventListener("change", function () { if (input.form) input.form.requestSubmit(); });
    });

    // Copy buttons for one-time secrets.
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy"));
        if (!target || !navigator.clipboard) return;
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          button.textContent = "Copied";
        }, function () { button.textContent = "Select and copy"; });
      });
    });

    // Live updates: pages that opt in with data-live refresh their [data-live-region] when
    // the platform reports an event on one of their channels over the Brain's WebSocket
    // (the browser's session cookie authenticates the connection).
    var live = document.body.getAttribute("data-live");
    var channels = (document.body.getAttribute("data-live-channels") || "").split(",");
    if (live && "WebSocket" in window) connectLive(live, channels.filter(Boolean));
  });

  function showCurrentNavItem() {
    var current = document.querySelector('.sidenav a[aria-current="page"]');
    var strip = current && current.closest(".sidenav");
    if (strip && strip.scrollWidth > strip.clientWidth) {
      var offset = current.getBoundingClientRect().left - strip.getBoundingClientRect().left;
      strip.scrollLeft += offset - 16;
    }
  }

  function connectLive(path, channels) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try { socket = new WebSocket(scheme + location.host + path); } catch (e) { return; }
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({ type: "subscribe", channels: channels }));
    });
    socket.addEventListener("message", function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      if (frame.type !== "event") return;
      refreshLiveRegion();
      // And once more shortly after: some state an event announces becomes readable a moment
      // later (a workflow run announces its end just before Temporal records it closed, and
      // Temporal's run lists are eventually consistent).
      clearTimeout(settleTimer);
      settleTimer = setTimeout(refreshLiveRegion, 1500);
    });
  }
  var settleTimer = null;

  function refreshLiveRegion() {
    var region = document.querySelector("[data-live-region]");
    if (!region) return;
    fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-live-region]");
        if (fresh) region.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () { /* keep the current view */ });
  }

  // Take the live region and the flash messages from a page rendered after a form's post.
  function replaceFromPage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var region = document.querySelector("[data-live-region]");
    var fresh = doc.querySelector("[data-live-region]");
    if (region && fresh) region.replaceWith(document.importNode(fresh, true));
    var flashes = doc.querySelector(".flashes");
    var current = document.querySelector(".flashes");
    if (current) current.remove();
    var anchor = document.querySelector("main");
    if (flashes && anchor) anchor.prepend(document.importNode(flashes, true));
    document.querySelectorAll(".flashes [data-dismiss]").forEach(function (button) {
      button.addEventListener("click", function () {
        var alert = button.closest(".alert");
        if (alert) alert.remove();
      });
    });
  }
})();
