/* The camera as a QR reader, shared by the gate page and the booth page: BarcodeDetector where the browser has it,
   else the bundled jsQR, loaded only when it is needed. One badge is seen many times a second, so a code is passed
   on again only after repeatMs. */
(function () {
  "use strict";

  window.QrCamera = function (options) {
    // options: button, video, jsqrUrl, repeatMs, onCode(code), ready() (may a code be taken now?), onText,
    // offText, onFail()
    var button = options.button;
    var video = options.video;
    var stream = null;
    var lastSeen = {code: "", at: 0};

    function loadJsQR() {
      if (window.jsQR) return Promise.resolve();
      return new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = options.jsqrUrl;
        tag.onload = resolve;
        tag.onerror = reject;
        document.head.appendChild(tag);
      });
    }

    function detector() {
      if (!("BarcodeDetector" in window)) return loadJsQR().then(function () { return null; });
      return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") >= 0) return new window.BarcodeDetector({formats: ["qr_code"]});
        return loadJsQR().then(function () { return null; });
      });
    }

    function readFrame(found, canvas) {
      if (found) {
        return found.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
      }
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      if (!canvas.width) return Promise.resolve(null);
      var context = canvas.getContext("2d", {willReadFrequently: true});
      context.drawImage(video, 0, 0);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, {inversionAttempts: "dontInvert"});
      return Promise.resolve(code ? code.data : null);
    }

    function watch(found) {
      var canvas = document.createElement("canvas");
      function next() {
        if (!stream) return;
        readFrame(found, canvas).then(function (code) {
          var now = Date.now();
          var fresh = code && (code !== lastSeen.code || now - lastSeen.at > options.repeatMs);
          if (fresh && (!options.ready || options.ready())) options.onCode(code);
          if (code) lastSeen = {code: code, at: now};
        }).catch(function () { /* a frame that could not be read: try the next one */ })
          .finally(function () { setTimeout(next, 150); });
      }
      next();
    }

    function start() {
      navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        button.textContent = options.onText;
        return video.play().then(detector).then(watch);
      }).catch(function () {
        stop();
        options.onFail();
      });
    }

    function stop() {
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.hidden = true;
      button.textContent = options.offText;
    }

    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      button.hidden = false;
      button.addEventListener("click", function () { if (stream) stop(); else start(); });
    }
  };
})();
