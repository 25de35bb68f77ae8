/**
 * The staff assistant: a side panel for owners, dispatchers and providers. Threads and
 * messages live in Convex (convex/assistant/chat.ts); the model answers through the
 * configured OpenAI-compatible endpoint. A change the model proposes shows as a card that
 * runs only when the person presses Confirm.
 */
import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { explainError } from "../lib/errors";

type Message = { messageId: Id<"assistantMessages">; role: string; text: string; tool?: { name: string; status: string; summary?: string } };

function ToolCard({ message }: { message: Message }) {
  const decide = useMutation(api.assistant.chat.decide);
  const [error, setError] = useState<string | null>(null);
  const tool = message.tool!;
  const answer = (confirm: boolean) => {
    setError(null);
    decide({ messageId: message.messageId, confirm }).catch((e: unknown) => setError(explainError(e).detail || explainError(e).title));
  };
  return (
    <div className="assistant-card" data-testid="assistant-card" data-status={tool.status}>
      <div className="assistant-card-tool">{tool.name.replace(/_/g, " ")}</div>
      <div>{tool.summary ?? message.text}</div>
      {tool.status === "pending" && (
        <div className="assistant-card-actions">
          <button type="button" className="btn btn-small" onClick={() => answer(true)}>
            Confirm
          </button>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => answer(false)}>
            Dismiss
          </button>
        </div>
      )}
      {tool.status === "confirmed" && <div className="badge tone-success">Done</div>}
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
  return (
    <ol className="assistant-messages" aria-label="Conversation">
      {messages.map((m) => (
        <li key={m.messageId} className={`assistant-message role-${m.role}`} data-role={m.role}>
          {m.tool ? <ToolCard message={m} /> : m.text}
        </li>
      ))}
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
