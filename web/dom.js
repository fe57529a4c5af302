// DOM and SVG helpers: elements are built with text content and attributes only (never
// markup from strings), so names from the trace (thread names) cannot inject anything.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | undefined>} [attrs]
 * @param {(Node | string | null | undefined)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined>} [attrs]
 * @param {(Node | string | null | undefined)[]} [children]
 * @returns {SVGElement}
 */
export function s(tag, attrs = {}, children = []) {
  const el = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** An SVG tooltip (<title>), shown on hover. @param {string} text */
export function tip(text) {
  return s("title", {}, [text]);
}

/**
 * @param {Element} el
 * @param {Record<string, string | number | boolean | undefined>} attrs
 */
function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
}

/**
 * @param {Element} el
 * @param {(Node | string | null | undefined)[]} children
 */
function append(el, children) {
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
}

/** Replaces an element's children. @param {Element} el @param {(Node | string | null | undefined)[]} children */
export function replace(el, children) {
  el.replaceChildren();
  append(el, children);
}

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing from the page`);
  return el;
}
