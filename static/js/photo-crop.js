/*
 * The order form's photo crop box (issue 9, "photos that print well").
 *
 * Progressive: without this script the hidden crop fields stay empty and the server crops
 * the photo centred, a little above the middle (cards/photos.py). With it, choosing a photo
 * shows it with a 35:45 frame (the card's photo frame) the person can move with a mouse, a
 * finger or the arrow keys, and resize by its corner or with + and -. The frame is written
 * into the hidden fields as fractions of the upright photo's width (x, width) and height
 * (y); the server checks and clamps them again. No inline script or style attributes:
 * positions are set through the CSSOM, which a strict Content-Security-Policy allows.
 */
(function () {
  "use strict";

  var RATIO = 45 / 35; // height : width of the card's photo frame
  var MIN_WIDTH = 413; // pixels (cards/photos.py PHOTO_MIN_SIZE)
  var MIN_HEIGHT = 531;
  var CENTRING = 0.4; // the default crop sits a little above the middle
  var TYPES = ["image/jpeg", "image/png"];

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  function setUp(root) {
    var input = root.querySelector("input[type=file]");
    var ui = root.querySelector("[data-crop-ui]");
    var stage = root.querySelector("[data-crop-stage]");
    var image = root.querySelector("[data-crop-image]");
    var box = root.querySelector("[data-crop-box]");
    var handle = root.querySelector("[data-crop-handle]");
    var preview = root.querySelector("[data-crop-preview]");
    var fields = {};
    root.querySelectorAll("[data-crop-field]").forEach(function (field) {
      fields[field.getAttribute("data-crop-field")] = field;
    });
    if (!input || !ui || !stage || !image || !box || !fields.x || !fields.y || !fields.width) {
      return;
    }
    var photo = null; // the upright photo's size in pixels
    var crop = null; // left, top, width in the photo's pixels
    var objectUrl = null;
    var drag = null;

    function largest() {
      return Math.min(photo.width, photo.height / RATIO);
    }

    function smallest() {
      return Math.min(MIN_WIDTH, largest());
    }

    function fit(next) {
      var width = clamp(next.width, smallest(), largest());
      return {
        left: clamp(next.left, 0, photo.width - width),
        top: clamp(next.top, 0, photo.height - width * RATIO),
        width: width,
      };
    }

    function centred() {
      var width = largest();
      return {
        left: (photo.width - width) / 2,
        top: (photo.height - width * RATIO) * CENTRING,
        width: width,
      };
    }

    function clear() {
      fields.x.value = "";
      fields.y.value = "";
      fields.width.value = "";
      ui.hidden = true;
      photo = null;
      crop = null;
    }

    function show() {
      box.style.left = (100 * crop.left) / photo.width + "%";
      box.style.top = (100 * crop.top) / photo.height + "%";
      box.style.width = (100 * crop.width) / photo.width + "%";
      box.style.height = (100 * crop.width * RATIO) / photo.height + "%";
      fields.x.value = (crop.left / photo.width).toFixed(5);
      fields.y.value = (crop.top / photo.height).toFixed(5);
      fields.width.value = (crop.width / photo.width).toFixed(5);
      if (preview && preview.getContext) {
        var context = preview.getContext("2d");
        context.imageSmoothingQuality = "high";
        context.drawImage(
          image,
          crop.left,
          crop.top,
          crop.width,
          crop.width * RATIO,
          0,
          0,
          preview.width,
          preview.height
        );
      }
    }

    function move(next) {
      crop = fit(next);
      show();
    }

    input.addEventListener("change", function () {
      clear();
      if (objectUrl) {
        URL.revokeObjectURL(objectUrl);
        objectUrl = null;
      }
      var file = input.files && input.files[0];
      if (!file || TYPES.indexOf(file.type) === -1 || !window.URL || !URL.createObjectURL) {
        return; // the server explains what is wrong with the file
      }
      objectUrl = URL.createObjectURL(file);
      image.src = objectUrl;
    });

    image.addEventListener("load", function () {
      // Browsers turn the photo upright by its EXIF orientation, as the server does.
      photo = { width: image.naturalWidth, height: image.naturalHeight };
      if (photo.width < MIN_WIDTH || photo.height < MIN_HEIGHT) {
        photo = null;
        return; // too small: the server says so, with the sizes
      }
      ui.hidden = false;
      move(centred());
    });

    image.addEventListener("error", clear);

    function pixelsPerScreenPixel() {
      var shown = stage.getBoundingClientRect();
      return shown.width > 0 ? photo.width / shown.width : 1;
    }

    function start(event, mode) {
      if (!crop || (event.pointerType === "mouse" && event.button !== 0)) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      drag = {
        mode: mode,
        pointer: event.pointerId,
        x: event.clientX,
        y: event.clientY,
        from: { left: crop.left, top: crop.top, width: crop.width },
        scale: pixelsPerScreenPixel(),
      };
      box.setPointerCapture(event.pointerId);
      box.focus({ preventScroll: true });
    }

    box.addEventListener("pointerdown", function (event) {
      start(event, event.target === handle ? "resize" : "move");
    });

    box.addEventListener("pointermove", function (event) {
      if (!drag || event.pointerId !== drag.pointer) {
        return;
      }
      var dx = (event.clientX - drag.x) * drag.scale;
      var dy = (event.clientY - drag.y) * drag.scale;
      if (drag.mode === "move") {
        move({ left: drag.from.left + dx, top: drag.from.top + dy, width: drag.from.width });
      } else {
        // The top-left corner stays; the frame keeps 35:45 and stays inside the photo.
        var width = drag.from.width + Math.max(dx, dy / RATIO);
        width = Math.min(
          width,
          photo.width - drag.from.left,
          (photo.height - drag.from.top) / RATIO
        );
        move({ left: drag.from.left, top: drag.from.top, width: width });
      }
    });

    function stop(event) {
      if (drag && event.pointerId === drag.pointer) {
        drag = null;
      }
    }
    box.addEventListener("pointerup", stop);
    box.addEventListener("pointercancel", stop);

    box.addEventListener("keydown", function (event) {
      if (!crop) {
        return;
      }
      var step = crop.width * (event.shiftKey ? 0.1 : 0.02);
      var next = { left: crop.left, top: crop.top, width: crop.width };
      switch (event.key) {
        case "ArrowLeft":
          next.left -= step;
          break;
        case "ArrowRight":
          next.left += step;
          break;
        case "ArrowUp":
          next.top -= step;
          break;
        case "ArrowDown":
          next.top += step;
          break;
        case "+":
        case "=":
        case "-":
        case "−": {
          // Resize about the centre.
          var grow = event.key === "+" || event.key === "=" ? 1.05 : 1 / 1.05;
          var width = clamp(crop.width * grow, smallest(), largest());
          next.left = crop.left + (crop.width - width) / 2;
          next.top = crop.top + ((crop.width - width) * RATIO) / 2;
          next.width = width;
          break;
        }
        default:
          return;
      }
      event.preventDefault();
      move(next);
    });
  }

  document.querySelectorAll("[data-photo-crop]").forEach(setUp);
})();
