// dvzero serve: draw a digit, send the drawing as a PNG, show what the network answers.
"use strict";

const TEXT = {
  en: {
    title: "Draw a digit",
    model: "Model",
    clear: "Clear",
    hint: "Draw one digit with your mouse or finger.",
    answer: "The network reads",
    input: "What the network sees",
    inputAbout: "28×28 pixels, made from your drawing as MNIST was made",
    hidden: "Its first hidden layer",
    footer: "The same preprocessing and network as dvzero predict.",
    switchTo: "中文",
    switchLang: "zh-CN",
    testAcc: "test acc",
    units: (n) => `${n} units; the brighter, the more active`,
    maps: (c, h, w) => `${c} feature maps of ${h}×${w}; the brighter, the more active`,
    tooLarge: (shape) => `${shape.join("×")} values: too many to draw`,
    blank: "Nothing drawn yet.",
    noModels: "No trained model yet: run dvzero train, then reload this page.",
    failed: "The server answered: ",
    unreachable: "The server cannot be reached; is dvzero serve still running?",
  },
  zh: {
    title: "写一个数字",
    model: "模型",
    clear: "清空",
    hint: "用鼠标或手指写一个数字。",
    answer: "网络认为是",
    input: "网络看到的输入",
    inputAbout: "28×28 像素，按 MNIST 的做法由你写的字生成",
    hidden: "第一个隐藏层",
    footer: "预处理和网络都与 dvzero predict 相同。",
    switchTo: "English",
    switchLang: "en",
    testAcc: "测试精度",
    units: (n) => `${n} 个单元，越亮越活跃`,
    maps: (c, h, w) => `${c} 张 ${h}×${w} 的特征图，越亮越活跃`,
    tooLarge: (shape) => `${shape.join("×")} 个数值，太多，不画了`,
    blank: "还没有写字。",
    noModels: "还没有训练好的模型：请先运行 dvzero train，再刷新本页。",
    failed: "服务器返回：",
    unreachable: "连不上服务器；dvzero serve 还在运行吗？",
  },
};

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const select = document.getElementById("model");
const digit = document.getElementById("digit");
const bars = document.getElementById("bars");
const status = document.getElementById("status");
const inputCanvas = document.getElementById("input");
const hiddenCanvas = document.getElementById("hidden");
const hiddenAbout = document.getElementById("hidden-about");

let language = "en";
let models = [];
let lastHidden = null;
let statusKey = "hint";
let statusDetail = "";
// The drawing's version goes up with every change; #digit's data-version says which
// version the answer on show is for, so that a test knows when the answer is final.
let version = 0;
let drawing = false;
let hasInk = false;
let last = null;
let inFlight = false;
let pending = false;

// ---------------------------------------------------------------- words

function chooseLanguage() {
  let saved = null;
  try { saved = localStorage.getItem("dvzero-language"); } catch (e) { /* private mode */ }
  if (saved === "en" || saved === "zh") return saved;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

function setLanguage(lang) {
  language = lang;
  const text = TEXT[lang];
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `dvzero: ${text.title}`;
  for (const element of document.querySelectorAll("[data-text]")) {
    element.textContent = text[element.dataset.text];
  }
  const button = document.getElementById("language");
  button.textContent = text.switchTo;
  button.lang = text.switchLang;
  try { localStorage.setItem("dvzero-language", lang); } catch (e) { /* private mode */ }
  fillModels();
  showStatus(statusKey, statusDetail);
  drawHidden(lastHidden);
}

function showStatus(key, detail = "") {
  statusKey = key;
  statusDetail = detail;
  status.textContent = TEXT[language][key] + detail;
  status.classList.toggle("error", key === "failed" || key === "unreachable" ||
    key === "noModels");
}

// ---------------------------------------------------------------- models

function fillModels() {
  const chosen = select.value;
  select.replaceChildren();
  for (const model of models) {
    const option = document.createElement("option");
    option.value = model.id;
    const accuracy = model.test_acc === null ? "" :
      ` · ${TEXT[language].testAcc} ${model.test_acc.toFixed(4)}`;
    option.textContent = `${model.id} · ${model.network}${accuracy}`;
    select.append(option);
  }
  if (models.some((model) => model.id === chosen)) select.value = chosen;
}

async function loadModels() {
  try {
    const response = await fetch("api/models");
    models = (await response.json()).models;
  } catch (e) {
    showStatus("unreachable");
    return;
  }
  fillModels();
  if (models.length === 0) showStatus("noModels");
}

// ---------------------------------------------------------------- drawing

function clearPad() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  hasInk = false;
  pending = false;  // an answer still on its way is for a drawing that is gone
  version += 1;
  document.body.dataset.drawn = String(version);
  digit.textContent = "?";
  digit.dataset.version = String(version);
  delete digit.dataset.digit;
  drawBars(null);
  inputCanvas.getContext("2d").clearRect(0, 0, 28, 28);
  lastHidden = null;
  drawHidden(null);
  showStatus("hint");
}

function pointOf(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width,
    (event.clientY - box.top) * pad.height / box.height];
}

// The pen's width, in the pad's pixels.
const PEN = 18;

function strokeTo(point) {
  ctx.beginPath();
  if (point[0] === last[0] && point[1] === last[1]) {
    // A tap: a line of no length leaves no mark where a browser prunes zero-length
    // segments before stroking, as the canvas spec says and Chromium 156 does, round
    // caps or not; so the dot is drawn as what it is, a disc.
    ctx.fillStyle = "#000";
    ctx.arc(point[0], point[1], PEN / 2, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    ctx.strokeStyle = "#000";
    ctx.lineWidth = PEN;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(point[0], point[1]);
    ctx.stroke();
  }
  last = point;
  hasInk = true;
  version += 1;
  document.body.dataset.drawn = String(version);
  ask();
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  drawing = true;
  last = pointOf(event);
  strokeTo(last);  // a tap leaves a dot
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  for (const each of event.getCoalescedEvents ? event.getCoalescedEvents() : [event]) {
    strokeTo(pointOf(each));
  }
});
for (const name of ["pointerup", "pointercancel"]) {
  pad.addEventListener(name, () => { drawing = false; });
}

// ---------------------------------------------------------------- asking the network

function ask() {
  if (inFlight) {
    pending = true;  // the newest drawing goes as soon as the answer in flight is back
    return;
  }
  inFlight = true;
  const sent = version;
  const body = JSON.stringify({ model: select.value || null, image: pad.toDataURL("image/png") });
  fetch("api/predict", { method: "POST", headers: { "Content-Type": "application/json" }, body })
    .then(async (response) => {
      const answer = await response.json();
      // An answer for a drawing (or model) changed since is never shown: a newer question
      // is on its way, or the pad was cleared.
      if (sent !== version) return;
      if (response.ok) {
        show(answer, sent);
        return;
      }
      if (response.status === 422) showStatus("blank");
      else showStatus("failed", answer.error);
      digit.dataset.version = String(sent);
    })
    .catch(() => {
      if (sent === version) showStatus("unreachable");
    })
    .finally(() => {
      inFlight = false;
      if (pending) {
        pending = false;
        ask();
      }
    });
}

function show(answer, sent) {
  digit.textContent = String(answer.digit);
  digit.dataset.digit = String(answer.digit);
  drawBars(answer.probabilities);
  drawInput(answer.input);
  lastHidden = answer.hidden;
  drawHidden(answer.hidden);
  showStatus("hint");
  digit.dataset.version = String(sent);
}

function drawBars(probabilities) {
  if (bars.children.length === 0) {
    for (let d = 0; d < 10; d += 1) {
      const item = document.createElement("li");
      item.innerHTML = '<span class="label"></span><span class="track"><span class="fill">' +
        '</span></span><span class="value"></span>';
      item.querySelector(".label").textContent = String(d);
      bars.append(item);
    }
  }
  const top = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  [...bars.children].forEach((item, d) => {
    const p = probabilities ? probabilities[d] : 0;
    item.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    item.querySelector(".value").textContent = probabilities ? p.toFixed(3) : "";
    item.classList.toggle("top", d === top);
  });
}

function drawInput(rows) {
  const image = inputCanvas.getContext("2d").createImageData(28, 28);
  rows.forEach((row, y) => row.forEach((value, x) => {
    const i = 4 * (28 * y + x);
    const grey = Math.round(255 * Math.min(1, Math.max(0, value)));
    image.data.set([grey, grey, grey, 255], i);
  }));
  inputCanvas.getContext("2d").putImageData(image, 0, 0);
}

// One cell per unit for a fully connected layer; one tile per feature map for a
// convolution. Sigmoid units are shown as they are (0 to 1); larger values (ReLU) are
// scaled so that the most active is white.
function drawHidden(hidden) {
  const context = hiddenCanvas.getContext("2d");
  if (!hidden) {
    hiddenCanvas.width = hiddenCanvas.height = 1;
    hiddenAbout.textContent = "";
    return;
  }
  const shape = hidden.shape;
  const text = TEXT[language];
  if (hidden.values.length === 0) {
    hiddenAbout.textContent = text.tooLarge(shape);
    hiddenCanvas.width = hiddenCanvas.height = 1;
    return;
  }
  const scale = Math.max(1, hidden.max);
  const [maps, height, width] = shape.length === 3 ? shape : [shape[0], 1, 1];
  hiddenAbout.textContent = shape.length === 3 ? text.maps(maps, height, width) :
    text.units(maps);
  const zoom = shape.length === 3 ? Math.max(1, Math.floor(48 / height)) : 16;
  const gap = 2;
  const columns = Math.ceil(Math.sqrt(maps));
  const rows = Math.ceil(maps / columns);
  hiddenCanvas.width = columns * (width * zoom + gap) - gap;
  hiddenCanvas.height = rows * (height * zoom + gap) - gap;
  context.fillStyle = "#fff";
  context.fillRect(0, 0, hiddenCanvas.width, hiddenCanvas.height);
  for (let m = 0; m < maps; m += 1) {
    const left = (m % columns) * (width * zoom + gap);
    const topEdge = Math.floor(m / columns) * (height * zoom + gap);
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const value = hidden.values[(m * height + y) * width + x] / scale;
        const grey = Math.round(255 * Math.min(1, Math.max(0, value)));
        context.fillStyle = `rgb(${grey},${grey},${grey})`;
        context.fillRect(left + x * zoom, topEdge + y * zoom, zoom, zoom);
      }
    }
  }
}

// ---------------------------------------------------------------- start

document.getElementById("clear").addEventListener("click", clearPad);
document.getElementById("language").addEventListener("click", () => {
  setLanguage(language === "en" ? "zh" : "en");
});
select.addEventListener("change", () => {
  if (hasInk) {  // the drawing again, to the model now chosen
    version += 1;
    document.body.dataset.drawn = String(version);
    ask();
  }
});

clearPad();
setLanguage(chooseLanguage());
loadModels();
