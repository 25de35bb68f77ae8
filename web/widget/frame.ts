/**
 * The iframe variant (/widget/frame.html?business=<slug>&…): the same widget in the frame's own
 * document (a shadow root inside it, so the same styles apply), configured by query parameters
 * (the names of the embed's data- attributes), telling its parent page its height, and opening
 * the booking page in the top window.
 */
import { config } from "../src/lib/config";
import { colourVars, WIDGET_CSS } from "./styles";
import { mountWidget } from "./widget";

const params = new URLSearchParams(location.search);
const data: DOMStringMap = {};
for (const [key, value] of params) data[key] = value;
const host = document.getElementById("widget")!;
const root = host.attachShadow({ mode: "open" });
const style = document.createElement("style");
style.textContent = `${WIDGET_CSS}\n:host{${colourVars(data)}}`;
root.append(style);
const returnUrl = params.get("return") ?? document.referrer;
mountWidget(root, {
  business: params.get("business") ?? "",
  industry: params.get("industry") ?? undefined,
  product: params.get("product") ?? undefined,
  locale: params.get("locale") ?? undefined,
  convexUrl: config.convexUrl,
  partykitHost: config.partykitHost || "127.0.0.1:1999",
  portalUrl: location.origin,
  returnUrl: /^https?:\/\//.test(returnUrl) ? returnUrl : location.origin,
  navigate: (url) => window.open(url, "_top"),
});
if (window.parent !== window) {
  new ResizeObserver(() => window.parent.postMessage({ type: "bpw:height", height: Math.ceil(host.getBoundingClientRect().height) + 2 }, "*")).observe(document.body);
}
