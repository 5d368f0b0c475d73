// 扫码作业 (/scan) with the device's camera: plain JavaScript, no build step, nothing inline (the
// page's Content-Security-Policy allows only the app's own scripts).
//
// 扫码 opens the rear camera and reads QR codes from its frames, continuously: the browser's
// BarcodeDetector where it reads QR codes (Android Chrome, Safari on recent iOS), else jsQR
// (/static/vendor/jsqr/, Apache-2.0), loaded only then. A frame is read every ~120 ms, scaled
// down to at most 640 px wide. Each label read goes to ScanPage.submit(text), the path a
// handheld scanner's Enter takes (scan.js), so the answer, its colour in #feedback and the
// document are the same. The same label read again within 3 s of its last sighting counts once:
// a label held in view is sent once. Each answer (scan.js's scan:feedback event) beeps and
// vibrates while the camera is open. The camera stops when closed, when the page is hidden and
// when the document is no longer open.
//
// window.ScanCamera.stats has one entry per label sent: text, decodedAt (performance.now()),
// decodeMs (the time from taking the frame to its decode's answer), blankAt (when the last
// frame before it in which nothing was read was taken), answeredAt and kind (the scan:feedback
// that followed); so answeredAt - blankAt bounds "label in view -> feedback" from above.
// ScanCamera.frames keeps {decodeMs, found} of recent frames. Both are for the tests and
// bench/scan_camera.py.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var JSQR_SRC = "/static/vendor/jsqr/jsQR.js";
  var FRAME_INTERVAL_MS = 120;
  var FRAME_WIDTH_MAX = 640;
  var REPEAT_MS = 3000;
  var FRAMES_KEPT_MAX = 5000;
  var PENDING_MAX_MS = 10000;  // a label sent and never answered no longer holds up the next

  var camera = {
    stream: null, timer: null, decode: null, engine: "", canvas: null, context: null,
    last: { text: "", seenAt: -Infinity }, blankAt: 0, pending: null, paused: false, audio: null
  };
  var stats = [];
  var frames = [];

  // ---- what the panel says --------------------------------------------------------------------

  function status(text, kind) {
    var line = $("camera-status");
    line.textContent = text;
    line.className = kind || "";
  }

  function showPanel(open) {
    $("camera").classList.toggle("hidden", !open);
  }

  function running(on) {  // 扫码 is offered whenever the camera is not running, 关闭 while it is
    $("camera-open").classList.toggle("hidden", on);
    $("camera-close").classList.toggle("hidden", !on);
    $("camera-video").classList.toggle("hidden", !on);
  }

  function documentOpen() {
    var page = window.ScanPage;
    var doc = page && page.state && page.state.doc;
    return !!doc && doc.status === "open" && !$("work").classList.contains("hidden");
  }

  // Why the camera cannot be used here, or "" when it can be asked for.
  function unavailable() {
    if (window.isSecureContext === false) {
      return "摄像头只能在 HTTPS 网址（或本机 localhost）下使用：请让管理员按 README 的说明" +
        "为本系统配置 HTTPS 后再用 https:// 地址打开本页；现在请用扫码枪或手工输入标签。";
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return "此浏览器不能使用摄像头：请换用手机自带的 Chrome 或 Safari，或用扫码枪、手工输入标签。";
    }
    return "";
  }

  function refusal(error) {
    var name = (error && error.name) || "";
    if (name === "NotAllowedError" || name === "SecurityError") {
      return "未获准使用摄像头：请在浏览器的网站设置中允许本站使用摄像头，再点“扫码”；" +
        "也可用扫码枪或手工输入标签。";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError" ||
        name === "DevicesNotFoundError") {
      return "没有找到摄像头：请用扫码枪或手工输入标签。";
    }
    if (name === "NotReadableError" || name === "AbortError") {
      return "摄像头正被其他应用占用：关闭其他使用摄像头的应用后再点“扫码”。";
    }
    return "无法打开摄像头（" + (name || "未知原因") + "）：请用扫码枪或手工输入标签。";
  }

  // ---- decoders: the browser's own, else jsQR -------------------------------------------------

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("load " + src)); };
      document.head.appendChild(script);
    });
  }

  function nativeDecoder() {
    if (!("BarcodeDetector" in window)) { return Promise.resolve(null); }
    var formats = window.BarcodeDetector.getSupportedFormats
      ? window.BarcodeDetector.getSupportedFormats() : Promise.resolve(["qr_code"]);
    return formats.then(function (supported) {
      if (supported.indexOf("qr_code") < 0) { return null; }
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function (canvas) {
        return detector.detect(canvas).then(function (codes) {
          return codes.length ? codes[0].rawValue : "";
        });
      };
    }).catch(function () { return null; });
  }

  function jsqrDecoder() {
    var ready = window.jsQR ? Promise.resolve() : loadScript(JSQR_SRC);
    return ready.then(function () {
      return function (canvas, context) {
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = window.jsQR(image.data, image.width, image.height,
                               { inversionAttempts: "dontInvert" });
        return Promise.resolve(code ? code.data : "");
      };
    });
  }

  function decoder() {
    if (camera.decode) { return Promise.resolve(camera.decode); }
    return nativeDecoder().then(function (native) {
      if (native) { camera.engine = "BarcodeDetector"; return native; }
      camera.engine = "jsQR";
      return jsqrDecoder();
    }).then(function (decode) {
      camera.decode = decode;
      return decode;
    });
  }

  // ---- the frames -------------------------------------------------------------------------------

  // The video's current frame on the canvas, at most FRAME_WIDTH_MAX wide; false when the video
  // has no frame yet.
  function grab(video) {
    if (video.readyState < 2 || !video.videoWidth) { return false; }
    var width = Math.min(FRAME_WIDTH_MAX, video.videoWidth);
    var height = Math.round(video.videoHeight * width / video.videoWidth);
    if (!camera.canvas) {
      camera.canvas = document.createElement("canvas");
      camera.context = camera.canvas.getContext("2d", { willReadFrequently: true });
    }
    if (camera.canvas.width !== width) { camera.canvas.width = width; }
    if (camera.canvas.height !== height) { camera.canvas.height = height; }
    camera.context.drawImage(video, 0, 0, width, height);
    return true;
  }

  function tick() {
    camera.timer = null;
    if (!camera.stream) { return; }
    if (!documentOpen()) { stop("扫描单已不在进行中，摄像头已关闭。"); return; }
    var started = performance.now();
    if (!grab($("camera-video"))) { schedule(started); return; }
    camera.decode(camera.canvas, camera.context).then(function (text) {
      var decodedAt = performance.now();
      remember(decodedAt - started, !!text);
      if (text) { seen(text.trim(), decodedAt, decodedAt - started); }
      else { camera.blankAt = started; }  // the frame was taken then, with no label in it
    }).catch(function () {
      camera.blankAt = started;
    }).then(function () { schedule(started); });
  }

  function schedule(started) {
    if (!camera.stream || camera.timer !== null) { return; }
    var wait = Math.max(0, FRAME_INTERVAL_MS - (performance.now() - started));
    camera.timer = window.setTimeout(tick, wait);
  }

  function remember(decodeMs, found) {
    frames.push({ decodeMs: decodeMs, found: found });
    if (frames.length > FRAMES_KEPT_MAX) { frames.splice(0, frames.length - FRAMES_KEPT_MAX); }
  }

  // A label read at `now`: sent unless it is the one last sent and was in view within REPEAT_MS
  // (its sighting is refreshed, so a label held still is sent once). While the page is busy
  // with the previous label, it is left for a later frame.
  function seen(text, now, decodeMs) {
    if (!text) { return; }
    var last = camera.last;
    if (text === last.text && now - last.seenAt < REPEAT_MS) { last.seenAt = now; return; }
    var page = window.ScanPage;
    if (camera.pending && now - camera.pending.decodedAt > PENDING_MAX_MS) {
      camera.pending = null;
    }
    if (!page || (page.state && page.state.busy) || camera.pending) { return; }
    camera.last = { text: text, seenAt: now };
    var stat = { text: text, decodedAt: now, decodeMs: decodeMs, blankAt: camera.blankAt,
                 answeredAt: null, kind: null, engine: camera.engine };
    stats.push(stat);
    camera.pending = stat;
    page.submit(text);
  }

  // ---- the answers: a beep and a buzz per kind ------------------------------------------------

  var TONES = {  // [frequency Hz, length ms] per beep
    ok: [[1760, 90]], queued: [[1760, 90]], again: [[880, 160]], warn: [[660, 160]],
    error: [[330, 160], [330, 160]]
  };
  var BUZZ = { ok: 40, queued: 40, again: [60, 60, 60], warn: [60, 60, 60] };

  function unlockAudio() {  // called from the click on 扫码: browsers allow sound after a gesture
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      if (!camera.audio) { camera.audio = new Context(); }
      if (camera.audio.state === "suspended") { camera.audio.resume(); }
    } catch (ignored) { camera.audio = null; }
  }

  function beep(kind) {
    var audio = camera.audio, tones = TONES[kind];
    if (!audio || !tones) { return; }
    var at = audio.currentTime;
    tones.forEach(function (tone) {
      var oscillator = audio.createOscillator(), gain = audio.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = tone[0];
      gain.gain.value = 0.08;
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + tone[1] / 1000);
      at += (tone[1] + 70) / 1000;
    });
  }

  function answered(event) {
    var detail = event.detail || {};
    var stat = camera.pending;
    if (stat && detail.kind !== "idle") {
      stat.answeredAt = performance.now();
      stat.kind = detail.kind;
      camera.pending = null;
    }
    if (!camera.stream) { return; }
    beep(detail.kind);
    // scan.js itself buzzes on an error.
    if (navigator.vibrate && BUZZ[detail.kind]) { navigator.vibrate(BUZZ[detail.kind]); }
  }

  // ---- opening and closing ------------------------------------------------------------------

  function open() {
    unlockAudio();
    showPanel(true);
    $("camera").scrollIntoView({ block: "start" });
    var why = unavailable();
    if (why) { status(why, "error"); return; }
    if (!documentOpen()) { status("请先开单，或选择一张进行中的扫描单。", "error"); return; }
    status("正在打开摄像头…");
    start();
  }

  function start() {
    camera.paused = false;
    running(true);
    var wanted = { audio: false, video: { facingMode: "environment" } };
    Promise.all([navigator.mediaDevices.getUserMedia(wanted), decoder()]).then(function (got) {
      var stream = got[0];
      if (camera.stream || !documentOpen() || $("camera").classList.contains("hidden")) {
        stream.getTracks().forEach(function (track) { track.stop(); });  // closed meanwhile
        return;
      }
      attach(stream);
    }).catch(function (error) {
      running(false);
      status(error && error.name ? refusal(error) : "读码程序未能加载：请刷新页面后重试。",
             "error");
    });
  }

  function attach(stream) {
    var video = $("camera-video");
    camera.stream = stream;
    camera.last = { text: "", seenAt: -Infinity };
    camera.blankAt = performance.now();
    video.srcObject = stream;
    var playing = video.play();
    if (playing && playing.catch) { playing.catch(function () {}); }
    $("payload").setAttribute("inputmode", "none");  // the focus stays; no on-screen keyboard
    status("对准标签上的二维码，读到即提交（同一标签 3 秒内只记一次）。");
    schedule(performance.now() - FRAME_INTERVAL_MS);
  }

  function stop(message) {
    if (camera.timer !== null) { window.clearTimeout(camera.timer); camera.timer = null; }
    if (camera.stream) {
      camera.stream.getTracks().forEach(function (track) { track.stop(); });
      camera.stream = null;
    }
    camera.pending = null;
    $("camera-video").srcObject = null;
    running(false);
    $("payload").removeAttribute("inputmode");
    if (message) { status(message); }
  }

  function close() {
    stop("");
    camera.paused = false;
    showPanel(false);
  }

  function visibility() {
    if (document.visibilityState === "hidden") {
      if (camera.stream) { stop("页面在后台时摄像头已暂停。"); camera.paused = true; }
    } else if (camera.paused && documentOpen()) {
      status("正在重新打开摄像头…");
      start();
    }
  }

  // 扫码 is usable when the scan input is (scan.js disables it on a posted or cancelled
  // document).
  function followPayload() {
    $("camera-open").disabled = $("payload").disabled;
  }

  function wire() {
    if (!$("camera-open")) { return; }
    $("camera-open").addEventListener("click", open);
    $("camera-close").addEventListener("click", close);
    document.addEventListener("scan:feedback", answered);
    document.addEventListener("visibilitychange", visibility);
    window.addEventListener("pagehide", function () { stop(""); });
    new MutationObserver(followPayload).observe($("payload"),
      { attributes: true, attributeFilter: ["disabled"] });
    followPayload();
  }

  window.ScanCamera = {
    stats: stats, frames: frames, open: open, close: close,
    engine: function () { return camera.engine; },
    running: function () { return !!camera.stream; }
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
