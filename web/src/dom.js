// Tiny DOM helpers: no framework.

export const $ = (id) => document.getElementById(id);

/** An element with attributes (data-*, aria-*, class…) and text or child nodes. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

/** Fill a result box with one paragraph per line and a tone class. */
export function showLines(box, { tone, lines }) {
  box.className = `result ${tone}`;
  box.replaceChildren(...lines.map((line) => el("p", {}, line)));
}
