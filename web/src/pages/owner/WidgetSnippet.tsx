/**
 * The booking widget for the business's own site: the snippet to paste (script tag or iframe),
 * its options (colour, service preselected, locale), and a live preview running the very same
 * widget code (web/widget/widget.ts) in a shadow root, as on the business's page.
 */
import { useEffect, useRef, useState } from "react";
import { config } from "../../lib/config";
import { Button, Card, Field } from "../../components/ui";
import { colourVars, WIDGET_CSS } from "../../../widget/styles";
import { mountWidget } from "../../../widget/widget";

type Options = { mode: "script" | "iframe"; color: string; product: string; locale: string };

export function snippetFor(origin: string, slug: string, o: Options, dev = import.meta.env.DEV): string {
  const attrs = [`data-business="${slug}"`];
  if (o.color) attrs.push(`data-color="${o.color}"`);
  if (o.product) attrs.push(`data-product="${o.product}"`);
  if (o.locale) attrs.push(`data-locale="${o.locale}"`);
  if (o.mode === "iframe") {
    const params = new URLSearchParams({ business: slug, ...(o.color ? { color: o.color } : {}), ...(o.product ? { product: o.product } : {}), ...(o.locale ? { locale: o.locale } : {}) });
    return `<iframe src="${origin}/widget/frame.html?${params}" title="Booking" style="width:100%;height:720px;border:0"></iframe>`;
  }
  const src = dev ? `type="module" src="${origin}/widget/embed.ts"` : `src="${origin}/widget.js" async`;
  return `<script ${src} ${attrs.join(" ")}></script>`;
}

export function WidgetSnippet({ slug }: { slug: string }) {
  const [options, setOptions] = useState<Options>({ mode: "script", color: "#0f4c81", product: "", locale: "" });
  const [copied, setCopied] = useState(false);
  const snippet = snippetFor(window.location.origin, slug, options);
  const preview = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const host = preview.current;
    if (!host) return;
    const root = host.shadowRoot ?? host.attachShadow({ mode: "open" });
    root.replaceChildren();
    const style = document.createElement("style");
    style.textContent = `${WIDGET_CSS}\n:host{${colourVars({ color: options.color })}}`;
    root.append(style);
    const widget = mountWidget(root, {
      business: slug,
      product: options.product || undefined,
      locale: options.locale || undefined,
      convexUrl: config.convexUrl,
      partykitHost: config.partykitHost || "127.0.0.1:1999",
      portalUrl: window.location.origin,
      returnUrl: window.location.href,
      navigate: (url) => window.open(url, "_blank", "noopener"),
    });
    return () => widget.destroy();
  }, [slug, options.color, options.product, options.locale]);

  return (
    <Card title="Booking widget for your website">
      <p className="muted small">
        Paste this where the booking form should appear on your site. Customers pick a service and a live time there, then sign in and pay on
        your booking page and come back to your site.
      </p>
      <div className="form-grid">
        <Field label="Embed as">
          <select value={options.mode} onChange={(e) => setOptions({ ...options, mode: e.target.value as Options["mode"] })}>
            <option value="script">Script tag (in your page)</option>
            <option value="iframe">Iframe</option>
          </select>
        </Field>
        <Field label="Colour">
          <input type="color" value={options.color} onChange={(e) => setOptions({ ...options, color: e.target.value })} />
        </Field>
        <Field label="Service preselected (optional)" hint="Its name, as in your catalogue">
          <input value={options.product} maxLength={100} onChange={(e) => setOptions({ ...options, product: e.target.value })} />
        </Field>
        <Field label="Language and formats (optional)" hint="e.g. en-GB, de-DE">
          <input value={options.locale} maxLength={20} onChange={(e) => setOptions({ ...options, locale: e.target.value.trim() })} />
        </Field>
      </div>
      <Field label="Snippet">
        <textarea readOnly rows={3} value={snippet} data-testid="widget-snippet" onFocus={(e) => e.currentTarget.select()} />
      </Field>
      <Button
        variant="secondary"
        onClick={() => {
          void navigator.clipboard?.writeText(snippet).then(() => setCopied(true));
        }}
      >
        {copied ? "Copied" : "Copy snippet"}
      </Button>
      <h3>Preview</h3>
      <div ref={preview} className="widget-preview" data-testid="widget-preview" />
    </Card>
  );
}
