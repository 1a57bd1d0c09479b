import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type HistoryEntry, type Me, type TicketDetails } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { Message, useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { Link } from "../router";
import { AttachmentList, FilePicker, FileRefusals } from "./Attachments";
import { allowedActions, refusals, takesNotes, uploadAll, type Refused, type TicketAction } from "./tickets";

const ACTION_LABELS: Record<TicketAction, MessageKey> = {
  cancel: "ticket.cancel",
  reopen: "ticket.reopen",
  "confirm-resolution": "ticket.confirm",
};

/** TK-2, TK-4: one ticket: its facts and state, the conversation with its files, the moves its state
 * allows the customer, a new note, and its history. */
export function Ticket({ id, me }: { id: string; me: Me }) {
  const { t, formatDateTime } = useI18n();
  const [details, setDetails] = useState<TicketDetails | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [fileError, setFileError] = useState<unknown>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setDetails(await api.ticket(id));
      setError(null);
    } catch (caught) {
      setError(caught);
    }
  }, [id]);

  useEffect(() => {
    setDetails(null);
    void load();
  }, [load]);

  const move = async (action: TicketAction) => {
    setBusy(true);
    setActionError(null);
    try {
      await api.moveTicket(id, action, reason.trim() || undefined);
      setReason("");
      await load();
    } catch (caught) {
      setActionError(caught);
    } finally {
      setBusy(false);
    }
  };

  const ticket = details?.ticket;
  const actions = ticket ? allowedActions(ticket.state) : [];
  const supportNotes = details?.notes.filter((note) => note.author_kind === "support") ?? [];
  return (
    <main id="main" className="ticket">
      <p>
        <Link to="/tickets">{t("common.back")}</Link>
      </p>
      <h1>
        <Message
          id="ticket.title"
          values={{ number: <bdi dir="ltr" translate="no">{ticket?.number ?? ""}</bdi> }}
        />
      </h1>
      <ErrorMessage error={error} />
      {!details && !error && <p>{t("common.loading")}</p>}
      {ticket && details && (
        <>
          <p className="ticket-topic" translate="no">
            <bdi>{ticket.topic}</bdi>
          </p>
          <dl className="facts">
            <dt>{t("ticket.stateLabel")}</dt>
            <dd className={`ticket-state ticket-state-${ticket.state}`} data-testid="ticket-state">
              {t(`ticket.state.${ticket.state}`)}
            </dd>
            <dt>{t("ticket.type")}</dt>
            <dd>{t(`ticket.type.${ticket.type}`)}</dd>
            <dt>{t("ticket.severity")}</dt>
            <dd>{t(`ticket.severity.${ticket.severity}`)}</dd>
            <dt>{t("ticket.priority")}</dt>
            <dd>{t(`ticket.priority.${ticket.priority}`)}</dd>
            <dt>{t("ticket.created")}</dt>
            <dd>{formatDateTime(ticket.created_at)}</dd>
            <dt>{t("ticket.updated")}</dt>
            <dd>{formatDateTime(ticket.updated_at)}</dd>
            {ticket.auto_close_at && (
              <>
                <dt>{t("ticket.autoClose")}</dt>
                <dd>{formatDateTime(ticket.auto_close_at)}</dd>
              </>
            )}
            <dt>{t("ticket.lines")}</dt>
            <dd>
              {ticket.related.lines.length ? (
                <bdi dir="ltr" translate="no">
                  {ticket.related.lines.join(", ")}
                </bdi>
              ) : (
                t("ticket.none")
              )}
            </dd>
            <dt>{t("ticket.contact")}</dt>
            <dd>
              {ticket.contact_msisdn ? (
                <bdi dir="ltr" translate="no">
                  {ticket.contact_msisdn}
                </bdi>
              ) : (
                t("ticket.none")
              )}
            </dd>
          </dl>
          <h2>{t("ticket.description")}</h2>
          <p className="note-body" dir="auto" translate="no">
            {ticket.description}
          </p>
          {(ticket.type === "complaint" || ticket.type === "suggestion") && (
            <section className="progress" aria-labelledby="ticket-progress">
              <h2 id="ticket-progress">{t("ticket.progress")}</h2>
              <p>
                {t(`ticket.progress.${ticket.state}`)}{" "}
                {supportNotes.length
                  ? t("ticket.progressNotes", { count: supportNotes.length })
                  : t("ticket.progressNoNotes")}
              </p>
            </section>
          )}
          {actions.length > 0 && (
            <section className="actions" aria-labelledby="ticket-actions">
              <h2 id="ticket-actions">{t("ticket.actions")}</h2>
              <p className="hint">{t(ticket.state === "resolved" ? "ticket.resolvedHint" : "ticket.openHint")}</p>
              <label>
                {t("ticket.reason")}
                <input name="reason" maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />
              </label>
              <div className="buttons">
                {actions.map((action) => (
                  <button
                    key={action}
                    type="button"
                    disabled={busy}
                    className={action === "cancel" ? "secondary" : undefined}
                    onClick={() => void move(action)}
                  >
                    {t(ACTION_LABELS[action])}
                  </button>
                ))}
              </div>
              <ErrorMessage error={actionError} />
            </section>
          )}
          <section aria-labelledby="ticket-conversation">
            <h2 id="ticket-conversation">{t("ticket.conversation")}</h2>
            {details.notes.length === 0 && <p>{t("ticket.noNotes")}</p>}
            <ol className="notes">
              {details.notes.map((note) => (
                <li key={note.id} className={`note note-${note.author_kind}`}>
                  <p className="note-head">
                    <strong>
                      {note.author_id === me.id ? t("ticket.you") : t(`ticket.actor.${note.author_kind}`)}
                    </strong>{" "}
                    <time dateTime={note.created_at}>{formatDateTime(note.created_at)}</time>
                  </p>
                  <p className="note-body" dir="auto" translate="no">
                    {note.body}
                  </p>
                  <AttachmentList ticketId={id} attachments={note.attachments} onError={setFileError} />
                </li>
              ))}
            </ol>
            <ErrorMessage error={fileError} />
            {takesNotes(ticket.state) && <NoteForm ticketId={id} onAdded={load} />}
          </section>
          <History entries={details.history} me={me} />
        </>
      )}
    </main>
  );
}

function NoteForm({ ticketId, onAdded }: { ticketId: string; onAdded: () => Promise<void> }) {
  const { t } = useI18n();
  const [body, setBody] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [refused, setRefused] = useState<Refused[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (refusals(files).length) return; // shown under the picker; nothing is sent
    setBusy(true);
    setError(null);
    setRefused([]);
    try {
      const uploaded = await uploadAll(ticketId, files);
      if (uploaded.refused.length) {
        setRefused(uploaded.refused);
        return;
      }
      await api.addNote(ticketId, body.trim(), uploaded.ids);
      setBody("");
      setFiles([]);
      await onAdded();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stacked note-form" onSubmit={submit} aria-labelledby="ticket-write">
      <h3 id="ticket-write">{t("ticket.write")}</h3>
      <label>
        {t("ticket.noteBody")}
        <textarea name="note" required maxLength={10000} rows={4} value={body} onChange={(e) => setBody(e.target.value)} />
      </label>
      <FilePicker files={files} onChange={setFiles} />
      <FileRefusals refused={refused} />
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {busy ? t("ticket.sending") : t("ticket.send")}
      </button>
    </form>
  );
}

function History({ entries, me }: { entries: HistoryEntry[]; me: Me }) {
  const { t, formatDateTime } = useI18n();
  return (
    <section aria-labelledby="ticket-history">
      <h2 id="ticket-history">{t("ticket.history")}</h2>
      <div className="table-scroll">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("ticket.historyWhen")}</th>
              <th scope="col">{t("ticket.historyWho")}</th>
              <th scope="col">{t("ticket.historyWhat")}</th>
              <th scope="col">{t("ticket.historyWhy")}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry, i) => (
              <tr key={i}>
                <td>
                  <time dateTime={entry.occurred_at}>{formatDateTime(entry.occurred_at)}</time>
                </td>
                <td>{entry.actor_id === me.id ? t("ticket.you") : t(`ticket.actor.${entry.actor_kind}`)}</td>
                <td>
                  {entry.action === "state_changed" && entry.from_state
                    ? t("ticket.history.moved", {
                        from: t(`ticket.state.${entry.from_state}`),
                        to: t(`ticket.state.${entry.to_state}`),
                      })
                    : t(`ticket.history.${entry.action}`, { state: t(`ticket.state.${entry.to_state}`) })}
                </td>
                <td dir="auto" translate="no">
                  {entry.reason ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
