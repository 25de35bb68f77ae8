/**
 * One conversation between a customer and the business, for either side: the messages
 * (live: Convex subscriptions), images of the job, and a composer that uploads images to
 * Convex file storage before sending. Opening a thread marks the other side's messages read.
 */
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { dateTime } from "../lib/format";
import { Button, ErrorBox, Loading, useRun } from "./ui";

type Props = {
  customerId: Id<"customers">;
  bookingId?: Id<"bookings">;
  /** The side the viewer writes on (labels only; the server decides). */
  side: "customer" | "business";
  /** The time zone message times are shown in. */
  timeZone: string;
  /** How the other side is called ("Sparkle Cleaning", "Casey"). */
  otherName: string;
};

export function Conversation({ customerId, bookingId, side, timeZone, otherName }: Props) {
  const summary = useQuery(api.messages.find, { customerId, ...(bookingId ? { bookingId } : {}) });
  if (summary === undefined) return <Loading label="Loading the conversation…" />;
  return (
    <div className="conversation" data-conversation={summary?._id ?? ""}>
      {summary === null ? (
        <p className="muted">No messages yet. Write the first one below.</p>
      ) : (
        <Messages conversationId={summary._id} unread={summary.unread} side={side} timeZone={timeZone} otherName={otherName} />
      )}
      <Composer customerId={customerId} bookingId={bookingId} />
    </div>
  );
}

function Messages({
  conversationId,
  unread,
  side,
  timeZone,
  otherName,
}: {
  conversationId: Id<"conversations">;
  unread: number;
  side: "customer" | "business";
  timeZone: string;
  otherName: string;
}) {
  const { results, status, loadMore } = usePaginatedQuery(api.messages.thread, { conversationId }, { initialNumItems: 30 });
  const markRead = useMutation(api.messages.markThreadRead);
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (unread > 0) void markRead({ conversationId }).catch(() => undefined);
  }, [unread, conversationId, markRead]);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "nearest" });
  }, [results.length]);
  if (status === "LoadingFirstPage") return <Loading />;
  const ordered = [...results].reverse();
  return (
    <div className="messages" data-testid="messages" aria-live="polite">
      {status === "CanLoadMore" && (
        <Button variant="ghost" className="btn-small" onClick={() => loadMore(30)}>
          Earlier messages
        </Button>
      )}
      {ordered.map((m) => {
        const mine = m.from === side;
        return (
          <div key={m._id} className={`message ${mine ? "message-mine" : "message-theirs"}`} data-from={m.from} data-testid="message">
            <div className="message-meta muted small">
              {mine ? "You" : otherName} · {dateTime(m.createdAt, timeZone)}
              {mine && m.readAt !== undefined && <span> · Read</span>}
            </div>
            {m.body && <p className="message-body">{m.body}</p>}
            {m.attachments.length > 0 && (
              <div className="message-images">
                {m.attachments.map((a) =>
                  a.url ? (
                    <a key={a.storageId} href={a.url} target="_blank" rel="noreferrer">
                      <img src={a.url} alt={a.name ?? "Attached image"} className="message-image" data-testid="message-image" />
                    </a>
                  ) : null,
                )}
              </div>
            )}
          </div>
        );
      })}
      <div ref={end} />
    </div>
  );
}

const MAX_FILES = 4;
const MAX_BYTES = 5 * 1024 * 1024;

function Composer({ customerId, bookingId }: { customerId: Id<"customers">; bookingId?: Id<"bookings"> }) {
  const send = useMutation(api.messages.send);
  const uploadUrl = useMutation(api.messages.generateUploadUrl);
  const run = useRun();
  const [body, setBody] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const pick = (list: FileList | null) => {
    const chosen = Array.from(list ?? []);
    if (chosen.length > MAX_FILES) return setProblem(`At most ${MAX_FILES} images per message.`);
    const bad = chosen.find((f) => !f.type.startsWith("image/") || f.size > MAX_BYTES);
    if (bad) return setProblem(`${bad.name}: only images up to 5 MB can be attached.`);
    setProblem(null);
    setFiles(chosen);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (body.trim() === "" && files.length === 0) return setProblem("Write a message or attach an image.");
    setProblem(null);
    const done = await run.run(async () => {
      const attachments = [];
      for (const file of files) {
        const url = await uploadUrl({ customerId });
        const response = await fetch(url, { method: "POST", headers: { "Content-Type": file.type }, body: file });
        if (!response.ok) throw new Error(`Uploading ${file.name} failed (${response.status}).`);
        const { storageId } = (await response.json()) as { storageId: Id<"_storage"> };
        attachments.push({ storageId, contentType: file.type, name: file.name });
      }
      await send({ customerId, body, ...(bookingId ? { bookingId } : {}), ...(attachments.length ? { attachments } : {}) });
      return true;
    });
    if (done) {
      setBody("");
      setFiles([]);
      if (fileInput.current) fileInput.current.value = "";
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      <label className="field">
        <span className="field-label">Message</span>
        <textarea value={body} onChange={(e) => setBody(e.target.value)} rows={3} maxLength={5000} />
      </label>
      <label className="field">
        <span className="field-label">Attach images</span>
        <input ref={fileInput} type="file" accept="image/*" multiple onChange={(e) => pick(e.target.files)} />
        <span className="field-hint">Photos of the job, up to {MAX_FILES} images of 5 MB each.</span>
      </label>
      {problem && <p className="field-error" role="alert">{problem}</p>}
      {run.error !== null && <ErrorBox error={run.error} compact />}
      <Button type="submit" busy={run.busy}>
        Send
      </Button>
    </form>
  );
}
