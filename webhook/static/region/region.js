/*
 * Vary (Region) editor: paint the area to redo over the picture, then send the mask and the prompt.
 *
 * No Telegram script is loaded from the internet. Telegram clients open a Mini App with its launch
 * parameters in the URL fragment: #tgWebAppData=<initData, URL-encoded>&tgWebAppVersion=...&
 * tgWebAppThemeParams=<JSON>; the page reads initData and the theme from there. Calls to the client
 * (ready, expand, MainButton, close) go through the documented web events bridge: TelegramWebviewProxy
 * on mobile and desktop, window.external.notify on older desktop builds, postMessage to the parent in
 * Telegram Web; events come back through window.Telegram.WebView.receiveEvent or "message" events.
 * If the host page did provide window.Telegram.WebApp (Telegram's own SDK), that object is used instead.
 *
 * The mask is painted on a canvas at the picture's natural size, so what is sent is exact.
 */
"use strict";

(() => {
  const TINT = "rgb(255, 40, 120)";
  const TELEGRAM_WEB_ORIGIN = "https://web.telegram.org";
  const THEME_KEYS = ["bg_color", "text_color", "hint_color", "button_color", "button_text_color", "secondary_bg_color"];
  const COLOUR = /^#[0-9a-f]{6}$/i;
  const MIN_LASSO_POINTS = 3;
  const LASSO_STEP_PX = 3; // on screen: fewer points, same shape
  const CLOSE_DELAY_MS = 700; // long enough to read "Sent"
  const ERROR_LABELS = { empty_mask: "empty_mask", auth: "auth", forbidden: "forbidden", gone: "gone", not_found: "gone" };

  const config = JSON.parse(document.getElementById("region-config").textContent);
  const labels = config.labels;
  const byId = (id) => document.getElementById(id);
  const app = byId("app");
  const wrap = byId("stage-wrap");
  const stage = byId("stage");
  const picture = byId("picture");
  const mask = byId("mask");
  const preview = byId("preview");
  const statusLine = byId("status");
  const promptField = byId("prompt");
  const sizeInput = byId("size");
  const submitButton = byId("submit");
  const maskCtx = mask.getContext("2d");
  const previewCtx = preview.getContext("2d");

  const launch = new URLSearchParams(window.location.hash.slice(1));

  // --- Telegram -------------------------------------------------------------------------------------------

  function sdkBridge(sdk) {
    return {
      inTelegram: true,
      initData: sdk.initData || "",
      theme: () => sdk.themeParams || {},
      onTheme: (fn) => sdk.onEvent("themeChanged", () => fn(sdk.themeParams || {})),
      start() {
        sdk.ready();
        sdk.expand();
        if (typeof sdk.disableVerticalSwipes === "function") sdk.disableVerticalSwipes();
      },
      mainButton(text, onPress) {
        sdk.MainButton.setText(text);
        sdk.MainButton.onClick(onPress);
        sdk.MainButton.show();
      },
      mainButtonBusy(busy) {
        if (busy) sdk.MainButton.showProgress(false);
        else sdk.MainButton.hideProgress();
      },
      mainButtonHide: () => sdk.MainButton.hide(),
      close: () => sdk.close(),
    };
  }

  function poster() {
    const proxy = window.TelegramWebviewProxy;
    if (proxy && typeof proxy.postEvent === "function") {
      return (type, data) => proxy.postEvent(type, JSON.stringify(data));
    }
    if (window.external && "notify" in window.external) {
      return (type, data) => window.external.notify(JSON.stringify({ eventType: type, eventData: data }));
    }
    if (window.parent !== window) {
      return (type, data) =>
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data }), TELEGRAM_WEB_ORIGIN);
    }
    return null;
  }

  function eventsBridge() {
    const post = poster();
    const handlers = {};
    const receive = (type, data) => (handlers[type] || []).forEach((fn) => fn(data));
    const listen = (type, fn) => (handlers[type] = handlers[type] || []).push(fn);
    window.Telegram = window.Telegram || {};
    window.Telegram.WebView = window.Telegram.WebView || {};
    window.Telegram.WebView.receiveEvent = receive;
    window.addEventListener("message", (event) => {
      if (event.source !== window.parent || event.origin !== TELEGRAM_WEB_ORIGIN) return;
      try {
        const message = JSON.parse(event.data);
        receive(message.eventType, message.eventData);
      } catch (_) {
        /* not a Telegram event */
      }
    });
    let theme = {};
    try {
      theme = JSON.parse(launch.get("tgWebAppThemeParams") || "{}") || {};
    } catch (_) {
      theme = {};
    }
    let mainButton = {};
    const send = post || (() => {});
    return {
      inTelegram: post !== null,
      initData: launch.get("tgWebAppData") || "",
      theme: () => theme,
      onTheme: (fn) => listen("theme_changed", (data) => fn((data && data.theme_params) || {})),
      start() {
        send("web_app_ready");
        send("web_app_expand");
        send("web_app_setup_swipe_behavior", { allow_vertical_swipe: false });
        send("web_app_request_theme");
      },
      mainButton(text, onPress) {
        listen("main_button_pressed", onPress);
        const colours = {};
        if (COLOUR.test(theme.button_color || "")) colours.color = theme.button_color;
        if (COLOUR.test(theme.button_text_color || "")) colours.text_color = theme.button_text_color;
        mainButton = { is_visible: true, is_active: true, is_progress_visible: false, text, ...colours };
        send("web_app_setup_main_button", mainButton);
      },
      mainButtonBusy(busy) {
        mainButton = { ...mainButton, is_active: !busy, is_progress_visible: busy };
        send("web_app_setup_main_button", mainButton);
      },
      mainButtonHide() {
        mainButton = { ...mainButton, is_visible: false };
        send("web_app_setup_main_button", mainButton);
      },
      close: () => send("web_app_close", {}),
    };
  }

  const sdk = window.Telegram && window.Telegram.WebApp;
  const telegram = sdk && sdk.initData ? sdkBridge(sdk) : eventsBridge();

  function applyTheme(params) {
    const root = document.documentElement.style;
    for (const key of THEME_KEYS) {
      const value = params[key];
      if (typeof value === "string" && COLOUR.test(value)) root.setProperty(`--tg-${key}`, value);
    }
  }

  // --- layout -----------------------------------------------------------------------------------------------

  function fit() {
    const scale = Math.min(wrap.clientWidth / config.width, wrap.clientHeight / config.height);
    stage.style.width = `${Math.max(1, Math.floor(config.width * scale))}px`;
    stage.style.height = `${Math.max(1, Math.floor(config.height * scale))}px`;
  }

  // --- painting ---------------------------------------------------------------------------------------------

  const ops = []; // everything drawn, replayed after an undo
  let tool = "brush";
  let current = null;

  const pixelsPerScreenPx = () => mask.width / mask.getBoundingClientRect().width;

  function point(event) {
    const box = mask.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * mask.width) / box.width,
      y: ((event.clientY - box.top) * mask.height) / box.height,
    };
  }

  function pen(ctx, erase) {
    ctx.globalCompositeOperation = erase ? "destination-out" : "source-over";
    ctx.fillStyle = TINT;
    ctx.strokeStyle = TINT;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }

  function dot(ctx, p, size) {
    ctx.beginPath();
    ctx.arc(p.x, p.y, size / 2, 0, Math.PI * 2);
    ctx.fill();
  }

  function segment(ctx, a, b, size) {
    ctx.lineWidth = size;
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }

  function polygon(ctx, points) {
    ctx.beginPath();
    ctx.moveTo(points[0].x, points[0].y);
    for (const p of points.slice(1)) ctx.lineTo(p.x, p.y);
    ctx.closePath();
  }

  function draw(ctx, op) {
    ctx.save();
    pen(ctx, op.kind === "eraser");
    if (op.kind === "brush" || op.kind === "eraser") {
      dot(ctx, op.points[0], op.size);
      for (let i = 1; i < op.points.length; i += 1) segment(ctx, op.points[i - 1], op.points[i], op.size);
    } else if (op.kind === "rect") {
      ctx.fillRect(op.x, op.y, op.w, op.h);
    } else if (op.kind === "lasso") {
      polygon(ctx, op.points);
      ctx.fill();
    } else if (op.kind === "clear") {
      ctx.clearRect(0, 0, mask.width, mask.height);
    }
    ctx.restore();
  }

  function redraw() {
    maskCtx.clearRect(0, 0, mask.width, mask.height);
    for (const op of ops) draw(maskCtx, op);
  }

  function rectOf(a, b) {
    return { kind: "rect", x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
  }

  function showPreview() {
    previewCtx.clearRect(0, 0, preview.width, preview.height);
    if (!current) return;
    previewCtx.save();
    pen(previewCtx, false);
    if (current.kind === "rect") {
      const r = rectOf(current.start, current.end);
      previewCtx.fillRect(r.x, r.y, r.w, r.h);
    } else if (current.kind === "lasso" && current.points.length > 1) {
      polygon(previewCtx, current.points);
      previewCtx.fill();
    }
    previewCtx.restore();
  }

  function begin(event) {
    if (app.dataset.state !== "ready" || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    preview.setPointerCapture(event.pointerId);
    const p = point(event);
    if (tool === "brush" || tool === "eraser") {
      current = { kind: tool, size: Number(sizeInput.value) * pixelsPerScreenPx(), points: [p] };
      maskCtx.save();
      pen(maskCtx, tool === "eraser");
      dot(maskCtx, p, current.size);
      maskCtx.restore();
    } else if (tool === "rect") {
      current = { kind: "rect", start: p, end: p };
    } else {
      current = { kind: "lasso", points: [p] };
    }
  }

  function move(event) {
    if (!current) return;
    event.preventDefault();
    const p = point(event);
    if (current.kind === "brush" || current.kind === "eraser") {
      const last = current.points[current.points.length - 1];
      current.points.push(p);
      maskCtx.save();
      pen(maskCtx, current.kind === "eraser");
      segment(maskCtx, last, p, current.size);
      maskCtx.restore();
    } else if (current.kind === "rect") {
      current.end = p;
      showPreview();
    } else {
      const last = current.points[current.points.length - 1];
      if (Math.hypot(p.x - last.x, p.y - last.y) >= LASSO_STEP_PX * pixelsPerScreenPx()) {
        current.points.push(p);
        showPreview();
      }
    }
  }

  function end(event) {
    if (!current) return;
    if (event.type === "pointerup") move(event);
    const done = current;
    current = null;
    showPreview();
    let op = null;
    if (done.kind === "brush" || done.kind === "eraser") op = done;
    else if (done.kind === "rect") op = rectOf(done.start, done.end);
    else if (done.points.length >= MIN_LASSO_POINTS) op = { kind: "lasso", points: done.points };
    if (op === null || (op.kind === "rect" && (op.w < 1 || op.h < 1))) return;
    ops.push(op);
    if (op.kind !== "brush" && op.kind !== "eraser") draw(maskCtx, op);
    refreshButtons();
  }

  function hasPaint() {
    // Erasing everything still leaves ops; the server has the last word on an empty mask.
    const lastClear = ops.map((op) => op.kind).lastIndexOf("clear");
    return ops.slice(lastClear + 1).some((op) => op.kind !== "eraser");
  }

  function refreshButtons() {
    byId("undo").disabled = ops.length === 0;
    byId("clear").disabled = !hasPaint();
  }

  function chooseTool(name) {
    tool = name;
    for (const button of document.querySelectorAll(".tool")) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === name));
    }
  }

  // --- sending ----------------------------------------------------------------------------------------------

  let sending = false;

  function say(text, kind) {
    statusLine.textContent = text;
    statusLine.className = kind ? `status ${kind}` : "status";
  }

  function setBusy(busy) {
    sending = busy;
    submitButton.disabled = busy;
    if (telegram.inTelegram) telegram.mainButtonBusy(busy);
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      if (typeof body.message === "string" && body.message) return body.message;
      return labels[ERROR_LABELS[body.code]] || labels.failed;
    } catch (_) {
      return labels.failed;
    }
  }

  async function send() {
    if (sending || app.dataset.state !== "ready") return;
    if (!telegram.initData) return say(labels.auth, "error");
    if (!hasPaint()) return say(labels.empty_mask, "error");
    setBusy(true);
    say(labels.sending);
    const body = JSON.stringify({ init_data: telegram.initData, prompt: promptField.value, mask: mask.toDataURL("image/png") });
    let response;
    try {
      response = await fetch(config.submitUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
        cache: "no-store",
        credentials: "same-origin",
      });
    } catch (_) {
      setBusy(false);
      return say(labels.failed, "error");
    }
    if (!response.ok) {
      setBusy(false);
      return say(await errorText(response), "error");
    }
    app.dataset.state = "done";
    say(labels.done, "done");
    if (telegram.inTelegram) {
      telegram.mainButtonHide();
      window.setTimeout(() => telegram.close(), CLOSE_DELAY_MS);
    }
  }

  function cancel() {
    if (sending) return;
    if (telegram.inTelegram) return telegram.close();
    app.dataset.state = "cancelled";
    say(labels.cancelled);
  }

  // --- start ------------------------------------------------------------------------------------------------

  applyTheme(telegram.theme());
  telegram.onTheme(applyTheme);
  if (telegram.inTelegram) {
    app.classList.add("native-submit");
    telegram.mainButton(labels.submit, send);
  }
  telegram.start();

  for (const button of document.querySelectorAll(".tool")) {
    button.addEventListener("click", () => chooseTool(button.dataset.tool));
  }
  preview.addEventListener("pointerdown", begin);
  preview.addEventListener("pointermove", move);
  preview.addEventListener("pointerup", end);
  preview.addEventListener("pointercancel", end);
  byId("undo").addEventListener("click", () => {
    ops.pop();
    redraw();
    refreshButtons();
  });
  byId("clear").addEventListener("click", () => {
    ops.push({ kind: "clear" });
    redraw();
    refreshButtons();
  });
  submitButton.addEventListener("click", send);
  byId("cancel").addEventListener("click", cancel);

  new ResizeObserver(fit).observe(wrap);
  fit();
  refreshButtons();
  const ready = () => {
    app.dataset.state = "ready";
  };
  const broken = () => {
    app.dataset.state = "broken";
    say(labels.failed, "error");
  };
  if (!picture.complete) {
    picture.addEventListener("load", ready, { once: true });
    picture.addEventListener("error", broken, { once: true });
  } else if (picture.naturalWidth > 0) ready();
  else broken();
})();
