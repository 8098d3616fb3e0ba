// Exact decimals for money: a BigInt of units and a scale (value = units / 10^scale).
// Firestore stores the backend's Decimals as doubles written from their shortest repr, so a
// number's shortest text (String(x)) gives the stored decimal back exactly; nothing here ever
// adds floats.

const TEN = 10n;
const pow10 = (n) => TEN ** BigInt(n);

/** A decimal from a stored number or numeric text ("1.5", "1e-7", 2.25). */
export function dec(value) {
  if (typeof value === "object" && value !== null && "units" in value) return value;
  const text = typeof value === "number" ? String(value) : String(value).trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] === "" && !m[3])) throw new Error(`not a decimal: ${text}`);
  const fraction = m[3] || "";
  let units = BigInt((m[2] || "0") + fraction);
  let scale = fraction.length - Number(m[4] || 0);
  if (scale < 0) {
    units *= pow10(-scale);
    scale = 0;
  }
  return { units: m[1] === "-" ? -units : units, scale };
}

function align(a, b) {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * pow10(scale - a.scale), b.units * pow10(scale - b.scale), scale];
}

export function add(a, b) {
  const [x, y, scale] = align(dec(a), dec(b));
  return { units: x + y, scale };
}

export function sub(a, b) {
  const [x, y, scale] = align(dec(a), dec(b));
  return { units: x - y, scale };
}

export function isZero(a) {
  return dec(a).units === 0n;
}

/** num / den rounded half-even to an integer (den > 0). */
function divHalfEven(num, den) {
  const negative = num < 0n;
  const n = negative ? -num : num;
  let q = n / den;
  const r2 = (n % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/** a rounded half-even to `scale` decimals. */
export function round(a, scale) {
  const d = dec(a);
  if (d.scale <= scale) return { units: d.units * pow10(scale - d.scale), scale };
  return { units: divHalfEven(d.units, pow10(d.scale - scale)), scale };
}

/** a × b / c rounded half-even to `scale` decimals (c > 0). */
export function mulDiv(a, b, c, scale) {
  const [x, y, z] = [dec(a), dec(b), dec(c)];
  if (z.units <= 0n) throw new Error("mulDiv: the divisor must be positive");
  const num = x.units * y.units * pow10(z.scale + scale);
  const den = pow10(x.scale + y.scale) * z.units;
  return { units: divHalfEven(num, den), scale };
}

/** Plain text with exactly `scale` decimals ("-12.30"). */
export function toFixed(a, scale) {
  const d = round(a, scale);
  const negative = d.units < 0n;
  const digits = (negative ? -d.units : d.units).toString().padStart(scale + 1, "0");
  const whole = scale ? digits.slice(0, -scale) : digits;
  const text = scale ? `${whole}.${digits.slice(-scale)}` : whole;
  return negative ? `-${text}` : text;
}

/** Plain text without trailing zeros ("1.5", "2"). */
export function toText(a) {
  const d = dec(a);
  let text = toFixed(d, Math.max(d.scale, 0));
  if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  return text;
}

// The minor unit, as the backend rounds money (smart_routing/domain/money.py minor_unit).
const FIAT_EXPONENTS = {
  ...Object.fromEntries("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(" ").map((c) => [c, 0])),
  ...Object.fromEntries("BHD IQD JOD KWD LYD OMR TND".split(" ").map((c) => [c, 3])),
};
const STABLECOINS = new Set("USDC USDT DAI USDG PYUSD".split(" "));
const COINS = new Set(
  "AAVE ADA ALGO APE ARB ATOM AVAX BAT BCH BNB BONK BTC CRV DAI DOGE DOT ETC ETH FIL GRT HBAR ICP LDO LINK LTC MATIC MKR NEAR OP PAXG PEPE POL RNDR SHIB SOL SUSHI TON TRUMP UNI USDC USDG USDT WBTC XLM XRP XTZ YFI".split(" "),
);

/** Decimal places of the currency's minor unit: 2 for USD, 0 for JPY, 8 for BTC. */
export function minorExponent(currency) {
  if (STABLECOINS.has(currency)) return 2;
  if (COINS.has(currency)) return 8;
  return FIAT_EXPONENTS[currency] ?? 2;
}
