/* Spot check page: scan badges with the phone's camera (jsQR, vendored) and mark people.
 * Every payload read is sent to the server, which verifies it (signature, revocation, unit);
 * only a verified badge marks its holder "present with badge". Names are set with
 * textContent, never as HTML. Without a camera or JavaScript the page still works: the
 * marks are radio buttons and payloads can be typed or pasted into the text box. */
(function () {
  "use strict";
  var root = document.getElementById("badge-scanner");
  if (!root || !window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  root.hidden = false;
  var form = root.closest("form");
  var token = form.querySelector('input[name="csrf_token"]').value;
  var startButton = root.querySelector("[data-start]");
  var stopButton = root.querySelector("[data-stop]");
  var video = root.querySelector("video");
  var status = root.querySelector("[data-status]");
  var payloads = document.getElementById("badges");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;
  var busy = false;
  var last = "";
  var lastAt = 0;
  var MAX_WIDTH = 640; // enough for a badge held in front of the camera, and fast on a phone

  function say(text, ok) {
    status.textContent = text;
    status.className = "scan-status " + (ok === true ? "ok" : ok === false ? "bad" : "");
  }

  function mark(employee, payload) {
    var radio = form.querySelector('input[name="result_' + employee.id + '"][value="present_with_badge"]');
    if (radio) {
      radio.checked = true;
      var row = document.getElementById("person-" + employee.id);
      if (row) { row.classList.add("marked", "scanned"); }
    }
    var lines = payloads.value.split("\n").map(function (s) { return s.trim(); });
    if (lines.indexOf(payload) < 0) {
      payloads.value = (payloads.value.trim() ? payloads.value.trim() + "\n" : "") + payload;
    }
  }

  function verify(payload) {
    busy = true;
    fetch(root.dataset.verifyUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ payload: payload })
    }).then(function (response) {
      return response.json();
    }).then(function (data) {
      say(data.message, data.ok);
      if (data.ok) { mark(data.employee, payload); }
    }).catch(function () {
      say(root.dataset.networkError, false);
    }).then(function () {
      busy = false;
    });
  }

  function tick() {
    if (!stream) { return; }
    if (!busy && video.readyState >= 2 && video.videoWidth) {
      var scale = Math.min(1, MAX_WIDTH / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      var now = Date.now();
      if (code && code.data && !(code.data === last && now - lastAt < 3000)) {
        last = code.data;
        lastAt = now;
        verify(code.data);
      }
    }
    window.requestAnimationFrame(tick);
  }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  startButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        startButton.hidden = true;
        stopButton.hidden = false;
        return video.play();
      }).then(function () {
        window.requestAnimationFrame(tick);
      }).catch(function () {
        stop();
        say(root.dataset.cameraError, false);
      });
  });
  stopButton.addEventListener("click", stop);
  form.addEventListener("submit", stop);
})();
