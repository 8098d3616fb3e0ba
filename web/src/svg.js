// SVG elements for the charts drawn without a library (tca.js, admin-charts.js).

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

export const isNum = (v) => typeof v === "number" && Number.isFinite(v);
