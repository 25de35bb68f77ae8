/**
 * The widget's own styles, scoped to its shadow root (or iframe): `:host { all: initial }` cuts
 * every inherited property of the host page, and nothing here can reach the host page. Colours
 * come from custom properties the embed sets from its data- attributes.
 */
export const WIDGET_CSS = `
:host { all: initial; display: block; width: 100%; max-width: 100%; contain: content; }
.bpw { box-sizing: border-box; width: 100%; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--bpw-text, #1b1f24); background: var(--bpw-background, #fff); border: 1px solid #c9d1da; border-radius: 10px; padding: 16px; }
.bpw *, .bpw *::before, .bpw *::after { box-sizing: border-box; }
.bpw h2 { font-size: 1.25em; margin: 0 0 12px; }
.bpw h3 { font-size: 1em; margin: 0 0 8px; }
.bpw-step { border-top: 1px solid #e3e8ee; padding: 12px 0; }
.bpw-row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.bpw label { font-weight: 600; }
.bpw input { font: inherit; padding: 8px 10px; border: 1px solid #6b7785; border-radius: 6px; min-width: 8em; color: inherit; background: #fff; }
.bpw button { font: inherit; cursor: pointer; border-radius: 6px; padding: 8px 12px; border: 1px solid var(--bpw-accent, #0f4c81); background: #fff; color: var(--bpw-accent-text-on-white, #0f4c81); }
.bpw button:disabled { opacity: .6; cursor: not-allowed; }
.bpw button:focus-visible, .bpw input:focus-visible { outline: 3px solid var(--bpw-accent, #0f4c81); outline-offset: 2px; }
.bpw .bpw-primary, .bpw [aria-pressed="true"] { background: var(--bpw-accent, #0f4c81); color: var(--bpw-on-accent, #fff); }
.bpw .bpw-link { border: 0; padding: 2px 4px; text-decoration: underline; background: transparent; }
.bpw-products { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
.bpw-product { display: flex; justify-content: space-between; gap: 8px; align-items: center; flex-wrap: wrap; border: 1px solid #e3e8ee; border-radius: 8px; padding: 8px 10px; }
.bpw-in-cart { border-color: var(--bpw-accent, #0f4c81); }
.bpw-stepper { display: inline-flex; gap: 6px; align-items: center; }
.bpw-extras { flex-basis: 100%; border: 0; margin: 0; padding: 4px 0 0; display: grid; gap: 4px; }
.bpw-extras legend { padding: 0; font-size: 0.85em; }
.bpw-extra { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.bpw-chips, .bpw-days, .bpw-slots { display: flex; flex-wrap: wrap; gap: 6px; margin: 0 0 8px; }
.bpw-slots button { min-width: 5.5em; }
.bpw-muted { color: #4a5561; font-size: .93em; }
.bpw-quote { font-weight: 600; margin: 8px 0 0; }
.bpw-warning { background: #fff4d6; border: 1px solid #b58100; color: #4d3800; border-radius: 6px; padding: 8px; }
.bpw-error { background: #fde8e8; border: 1px solid #b42318; color: #7a1a12; border-radius: 6px; padding: 8px; }
`;

/** The colour custom properties of data-color / data-background / data-text (CSS colour syntax only). */
export function colourVars(d: DOMStringMap): string {
  const safe = (v: string | undefined) => (v && /^(#[0-9a-f]{3,8}|[a-z]+|rgb\([\d\s,.%]+\))$/i.test(v) ? v : undefined);
  const vars: string[] = [];
  if (safe(d.color)) vars.push(`--bpw-accent:${d.color}`, `--bpw-accent-text-on-white:${d.color}`);
  if (safe(d.background)) vars.push(`--bpw-background:${d.background}`);
  if (safe(d.text)) vars.push(`--bpw-text:${d.text}`);
  return vars.join(";");
}
