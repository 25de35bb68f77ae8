/**
 * "Download invoice (PDF)": GET /invoices/pdf on the HTTP actions site (convex/invoiceFiles.ts)
 * with the person's own Convex token as a bearer token, saved as the file the server names.
 * The server decides who may read the invoice (the customer it is for, managers and the
 * owner); a refusal arrives in the one JSON error format and is shown in plain words.
 */
import { ConvexError } from "convex/values";
import { useAuthBridge } from "../lib/auth";
import { config } from "../lib/config";
import { Button, ErrorBox, useRun } from "./ui";

type ErrorBody = { error?: { code?: unknown; message?: unknown; param?: unknown } };

/** The invoice as a PDF file and its name, or a ConvexError with the server's code and message. */
export async function fetchInvoicePdf(invoiceId: string, token: string | null): Promise<{ filename: string; blob: Blob }> {
  if (token === null) throw new ConvexError({ code: "UNAUTHENTICATED", message: "Sign in to continue." });
  const response = await fetch(`${config.convexSiteUrl}/invoices/pdf?invoiceId=${encodeURIComponent(invoiceId)}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as ErrorBody | null;
    const error = body?.error;
    if (error && typeof error.code === "string") {
      throw new ConvexError({ code: error.code, message: typeof error.message === "string" ? error.message : "", ...(typeof error.param === "string" ? { param: error.param } : {}) });
    }
    throw new Error(`The invoice could not be downloaded (HTTP ${response.status}).`);
  }
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "invoice.pdf";
  return { filename, blob: await response.blob() };
}

/** Hands a file to the browser's downloads. */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function InvoiceDownloadButton({ invoiceId, variant = "secondary" }: { invoiceId: string; variant?: "primary" | "secondary" | "ghost" }) {
  const bridge = useAuthBridge();
  const run = useRun();
  return (
    <span className="invoice-download">
      <Button
        variant={variant}
        className="btn-small"
        busy={run.busy}
        data-testid="download-invoice"
        onClick={() =>
          void run.run(async () => {
            const { filename, blob } = await fetchInvoicePdf(invoiceId, await bridge.convexToken());
            saveFile(blob, filename);
          })
        }
      >
        Download invoice (PDF)
      </Button>
      {run.error !== null && <ErrorBox error={run.error} compact />}
    </span>
  );
}
