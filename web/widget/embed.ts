/**
 * The script-tag embed:
 *
 *   <script src="https://<portal>/widget.js" data-business="<slug>" async></script>
 *
 * Every `script[data-business]` on the page gets a widget right after it (or inside the element
 * `data-target` names): in a shadow root by default, or `data-mode="iframe"` in an iframe of the
 * portal's /widget/frame.html (sized to its content through postMessage). Attributes:
 * data-business (slug, required), data-industry / data-product (id, slug or name preselected),
 * data-color (accent), data-background, data-text, data-locale (BCP 47, e.g. de-DE),
 * data-convex-url, data-partykit-host, data-portal-url (defaults: this build's, and the
 * script's own origin).
 */
import { mountWidget } from "./widget";
import { colourVars, WIDGET_CSS } from "./styles";

const env = import.meta.env;
const MOUNTED = "data-bp-mounted";

function portalOf(script: HTMLScriptElement): string {
  if (script.dataset.portalUrl) return script.dataset.portalUrl;
  try {
    return new URL(script.src).origin;
  } catch {
    return location.origin;
  }
}

function mountOne(script: HTMLScriptElement) {
  if (script.hasAttribute(MOUNTED)) return;
  script.setAttribute(MOUNTED, "");
  const d = script.dataset;
  const target = (d.target ? document.querySelector(d.target) : null) ?? script.parentElement!;
  const host = document.createElement("div");
  host.className = "booking-widget";
  host.style.cssText = "display:block;width:100%;";
  if (d.target && target !== script.parentElement) target.append(host);
  else script.after(host);
  const portalUrl = portalOf(script);

  if (d.mode === "iframe") {
    const params = new URLSearchParams();
    for (const key of ["business", "industry", "product", "color", "background", "text", "locale"] as const) {
      const value = d[key];
      if (value) params.set(key, value);
    }
    params.set("return", location.href);
    const frame = document.createElement("iframe");
    frame.src = `${portalUrl}/widget/frame.html?${params}`;
    frame.title = "Booking";
    frame.style.cssText = "display:block;width:100%;height:640px;border:0;";
    window.addEventListener("message", (event: MessageEvent) => {
      const data = event.data as { type?: string; height?: number } | null;
      if (event.source === frame.contentWindow && data?.type === "bpw:height" && typeof data.height === "number") {
        frame.style.height = `${Math.ceil(Math.min(Math.max(data.height, 200), 5_000))}px`;
      }
    });
    host.append(frame);
    return;
  }

  const root = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = `${WIDGET_CSS}\n:host{${colourVars(d)}}`;
  root.append(style);
  mountWidget(root, {
    business: d.business!,
    industry: d.industry,
    product: d.product,
    locale: d.locale,
    convexUrl: d.convexUrl ?? (env.VITE_CONVEX_URL as string | undefined) ?? "http://127.0.0.1:3210",
    partykitHost: d.partykitHost ?? (env.VITE_PARTYKIT_HOST as string | undefined) ?? "127.0.0.1:1999",
    portalUrl,
    returnUrl: location.href,
    navigate: (url) => location.assign(url),
  });
}

function mountAll() {
  for (const script of document.querySelectorAll<HTMLScriptElement>("script[data-business]")) mountOne(script);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
else mountAll();
