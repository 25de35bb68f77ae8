/**
 * The staff assistant: a side panel for owners, dispatchers and providers. Threads and
 * messages live in Convex (convex/assistant/chat.ts); the model answers through the
 * configured OpenAI-compatible endpoint, its replies appearing as they are written. A change
 * the model proposes shows as a card that runs only when the person presses Confirm; a
 * confirmed move, status or booking offers Undo for 15 minutes.
 */
import { useMutation, useQuery } from "convex/react";
import { useEffect, useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { explainError } from "../lib/errors";

type Message = {
  messageId: Id<"assistantMessages">;
  role: string;
  text: string;
  streaming: boolean;
  tool?: { name: string; status: string; summary?: string; undo?: { summary: string; until: number } };
};

/** Whether `until` is still ahead, re-checked when it passes (so Undo disappears on time). */
function useStillBefore(until: number | undefined): boolean {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === undefined || until <= now) return;
    const timer = setTimeout(() => setNow(Date.now()), until - now + 50);
    return () => clearTimeout(timer);
  }, [until, now]);
  return until !== undefined && now < until;
}

function ToolCard({ message }: { message: Message }) {
  const decide = useMutation(api.assistant.chat.decide);
  const undo = useMutation(api.assistant.chat.undo);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tool = message.tool!;
  const canUndo = useStillBefore(tool.status === "confirmed" ? tool.undo?.until : undefined);
  const act = (run: () => Promise<unknown>) => {
    setError(null);
    setBusy(true);
    run()
      .catch((e: unknown) => setError(explainError(e).detail || explainError(e).title))
      .finally(() => setBusy(false));
  };
  const answer = (confirm: boolean) => act(() => decide({ messageId: message.messageId, confirm }));
  return (
    <div className="assistant-card" data-testid="assistant-card" data-status={tool.status}>
      <div className="assistant-card-tool">{tool.name.replace(/_/g, " ")}</div>
      <div>{tool.summary ?? message.text}</div>
      {tool.status === "pending" && (
        <div className="assistant-card-actions">
          <button type="button" className="btn btn-small" disabled={busy} onClick={() => answer(true)}>
            Confirm
          </button>
          <button type="button" className="btn btn-ghost btn-small" disabled={busy} onClick={() => answer(false)}>
            Dismiss
          </button>
        </div>
      )}
      {tool.status === "confirmed" && (
        <div className="assistant-card-actions">
          <span className="badge tone-success">Done</span>
          {canUndo && tool.undo && (
            <button
              type="button"
              className="btn btn-ghost btn-small"
              disabled={busy}
              title={tool.undo.summary}
              onClick={() => act(() => undo({ messageId: message.messageId }))}
            >
              Undo
            </button>
          )}
        </div>
      )}
      {tool.status === "undone" && <div className="badge">Undone</div>}
      {tool.status === "dismissed" && <div className="badge">Dismissed</div>}
      {tool.status === "failed" && <div className="badge tone-danger">Refused</div>}
      {error && (
        <p role="alert" className="assistant-error">
          {error}
        </p>
      )}
    </div>
  );
}

function Thread({ threadId }: { threadId: Id<"assistantThreads"> }) {
  const messages = useQuery(api.assistant.chat.messages, { threadId });
  if (messages === undefined) return <p>Loading…</p>;
  // The model's turn is due when the last word is the person's (sent, or a card just answered).
  const last = messages.at(-1);
  const thinking = last !== undefined && (last.role === "user" || last.tool?.status === "confirmed");
  return (
    <ol className="assistant-messages" aria-label="Conversation" aria-live="polite">
      {messages.map((m) => (
        <li
          key={m.messageId}
          className={`assistant-message role-${m.role}${m.streaming ? " streaming" : ""}`}
          data-role={m.role}
          aria-busy={m.streaming || undefined}
        >
          {m.tool ? <ToolCard message={m} /> : m.text}
        </li>
      ))}
      {thinking && (
        <li className="assistant-message role-assistant assistant-thinking" data-testid="assistant-thinking">
          Thinking…
        </li>
      )}
    </ol>
  );
}

export function AssistantPanel({ businessId }: { businessId: Id<"businesses"> }) {
  const [open, setOpen] = useState(false);
  const [threadId, setThreadId] = useState<Id<"assistantThreads"> | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const status = useQuery(api.assistant.chat.status, open ? { businessId } : "skip");
  const threads = useQuery(api.assistant.chat.threads, open ? { businessId } : "skip");
  const send = useMutation(api.assistant.chat.send);

  if (!open) {
    return (
      <button type="button" className="btn assistant-toggle" onClick={() => setOpen(true)}>
        Assistant
      </button>
    );
  }
  const submit = async () => {
    if (text.trim() === "") return;
    setError(null);
    try {
      const id = await send({ businessId, text, ...(threadId ? { threadId } : {}) });
      setThreadId(id);
      setText("");
    } catch (e) {
      const explained = explainError(e);
      setError(explained.detail || explained.title);
    }
  };
  return (
    <aside className="assistant-panel" aria-label="Assistant">
      <header className="assistant-head">
        <h2>Assistant</h2>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => setOpen(false)}>
          Close
        </button>
      </header>
      {status?.configured === false ? (
        <div className="assistant-setup" data-testid="assistant-setup">
          <p>No model is connected yet.</p>
          <p>
            Set <code>ASSISTANT_BASE_URL</code> (any OpenAI-compatible endpoint, e.g. Groq, OpenAI or a local server) and{" "}
            <code>ASSISTANT_MODEL</code>, plus <code>ASSISTANT_API_KEY</code> when the endpoint needs one, in the deployment's
            environment. The same tools are available now to MCP clients at <code>/mcp</code> (see docs/ASSISTANT.md).
          </p>
        </div>
      ) : (
        <>
          {threads && threads.length > 0 && (
            <label className="assistant-threads">
              <span>Conversation</span>
              <select value={threadId ?? ""} onChange={(e) => setThreadId(e.target.value === "" ? null : (e.target.value as Id<"assistantThreads">))}>
                <option value="">New conversation</option>
                {threads.map((t) => (
                  <option key={t.threadId} value={t.threadId}>
                    {t.title}
                  </option>
                ))}
              </select>
            </label>
          )}
          {threadId && <Thread threadId={threadId} />}
          <form
            className="assistant-form"
            onSubmit={(e) => {
              e.preventDefault();
              void submit();
            }}
          >
            <label>
              <span className="sr-only">Message the assistant</span>
              <textarea value={text} onChange={(e) => setText(e.target.value)} placeholder="Ask about today, a customer, a booking…" rows={2} />
            </label>
            <button type="submit" className="btn">
              Send
            </button>
          </form>
          {error && (
            <p role="alert" className="assistant-error">
              {error}
            </p>
          )}
        </>
      )}
    </aside>
  );
}
