// The in-page accessibility audit the browser tests run on every page they visit (no network).
//
// Evaluated by tests/browser/tab.py; returns
//   unlabeled:   form controls with no label (label[for], a wrapping label, aria-label, aria-labelledby)
//   unnamed:     links and buttons with no accessible name
//   lowContrast: text below WCAG AA (4.5:1, or 3:1 for large text), from computed colours
//   unmeasured:  text over a background image, whose contrast cannot be computed from colours
//   focusable:   one key per control a keyboard user must be able to reach (a radio group is one key)
// and leaves a focusin recorder on `window.__a11yFocused`, so the caller can press Tab through the
// page and compare the keys reached with `focusable`.
() => {
  const describe = (el) => {
    const shown = el instanceof HTMLElement ? el.innerText : el.textContent;  // SVG has no innerText
    let text = (shown || el.value || el.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ");
    if (text.length > 40) text = text.slice(0, 40) + "…";
    const id = el.id ? `#${el.id}` : "";
    const name = el.getAttribute("name") ? `[name=${el.getAttribute("name")}]` : "";
    return `<${el.tagName.toLowerCase()}${id}${name}> ${JSON.stringify(text)}`;
  };
  // Inside a closed <details> (but for its summary) nothing is shown or focusable until it is opened;
  // Chromium still gives such content boxes, so getClientRects alone counts it as rendered.
  const folded = (el) => {
    for (let d = el.closest("details:not([open])"); d; d = d.parentElement && d.parentElement.closest("details:not([open])")) {
      const summary = d.querySelector(":scope > summary");
      if (!summary || !summary.contains(el)) return true;
    }
    return false;
  };
  const rendered = (el) => {
    const style = getComputedStyle(el);
    return el.getClientRects().length > 0 && style.visibility !== "hidden" && !folded(el);
  };
  const textOf = (ids) => ids.split(/\s+/).map((id) => document.getElementById(id))
    .filter(Boolean).map((el) => el.textContent.trim()).join(" ").trim();

  // Labels: every control that takes input says what it is for.
  const controls = document.querySelectorAll(
    "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]):not([type=image]), select, textarea");
  const labelled = (el) =>
    (el.getAttribute("aria-labelledby") && textOf(el.getAttribute("aria-labelledby")) !== "")
    || (el.getAttribute("aria-label") || "").trim() !== ""
    || [...(el.labels || [])].some((label) => label.textContent.trim() !== "");
  const unlabeled = [...controls].filter((el) => !labelled(el)).map(describe);

  // Names: a link or button read out as just "link" or "button" is useless.
  const named = (el) =>
    el.textContent.trim() !== ""
    || (el.getAttribute("aria-label") || "").trim() !== ""
    || (el.getAttribute("aria-labelledby") && textOf(el.getAttribute("aria-labelledby")) !== "")
    || [...el.querySelectorAll("img[alt]")].some((img) => img.alt.trim() !== "")
    || (el.tagName === "INPUT" && (el.value || "").trim() !== "");
  const actionable = document.querySelectorAll("a[href], button, input[type=submit], input[type=button], input[type=reset]");
  const unnamed = [...actionable].filter((el) => !named(el)).map(describe);

  // Contrast: colours are parsed by a canvas, so any CSS colour syntax the page uses works.
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const paint = canvas.getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    paint.clearRect(0, 0, 1, 1);
    paint.fillStyle = "#000";
    paint.fillStyle = css;
    paint.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = paint.getImageData(0, 0, 1, 1).data;
    return { r, g, b, a: a / 255 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({ r, g, b }) => {
    const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  // The colour behind an element: its own and its ancestors' backgrounds composited over the
  // canvas (white), or null when an image or gradient is in the way.
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage !== "none") return null;
      const colour = rgba(style.backgroundColor);
      if (colour.a > 0) layers.push(colour);
      if (colour.a === 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), { r: 255, g: 255, b: 255, a: 1 });
  };
  const hex = ({ r, g, b }) => "#" + [r, g, b].map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const textElements = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (walker.currentNode.textContent.trim() && parent && !parent.closest("script, style, noscript, template")) {
      textElements.add(parent);
    }
  }
  for (const field of controls) {
    if (field.value && field.type !== "checkbox" && field.type !== "radio") textElements.add(field);
  }
  const lowContrast = [];
  const unmeasured = [];
  for (const el of textElements) {
    // WCAG exempts the text of disabled controls.
    if (!rendered(el) || el.closest(":disabled, [aria-disabled=true]")) continue;
    const style = getComputedStyle(el);
    const behind = background(el);
    if (behind === null) { unmeasured.push(describe(el)); continue; }
    // SVG text is painted with `fill`; `color` only matters there through currentColor.
    const paintedWith = el instanceof SVGElement && style.fill.startsWith("rgb") ? style.fill : style.color;
    const ink = over(rgba(paintedWith), behind);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && parseInt(style.fontWeight, 10) >= 700);
    const needed = large ? 3 : 4.5;
    const measured = ratio(ink, behind);
    if (measured < needed) {
      lowContrast.push(`${describe(el)}: ${measured.toFixed(2)}:1 (${hex(ink)} on ${hex(behind)}, needs ${needed}:1)`);
    }
  }

  // Keyboard: every rendered control a pointer user can operate, keyed for the Tab walk.
  const interactive = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])");
  const focusable = new Set();
  let counter = 0;
  for (const el of interactive) {
    if (!rendered(el) || el.disabled) continue;
    const key = el.type === "radio" && el.name ? `radio:${el.form ? el.form.id || "form" : ""}:${el.name}`
      : `${counter++}:${describe(el)}`;
    el.dataset.a11yKey = key;
    focusable.add(key);
  }
  window.__a11yFocused = [];
  if (!window.__a11yRecorder) {
    window.__a11yRecorder = (event) => window.__a11yFocused.push(event.target.dataset ? event.target.dataset.a11yKey || null : null);
    document.addEventListener("focusin", window.__a11yRecorder);
  }
  return { unlabeled, unnamed, lowContrast, unmeasured, focusable: [...focusable] };
}
