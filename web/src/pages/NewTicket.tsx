import { useEffect, useState, type FormEvent } from "react";
import { api, type Me, type NewTicket as NewTicketBody, type Node, type Ticket, type TicketType } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { Message, useI18n } from "../i18n";
import { Link, useRouter } from "../router";
import { FilePicker, FileRefusals } from "./Attachments";
import { newIdempotencyKey, refusals, SEVERITIES, TICKET_TYPES, uploadAll, type Refused } from "./tickets";

type Severity = (typeof SEVERITIES)[number];
/** A request by form is filed from the forms library, with its filled form. */
const TYPES = TICKET_TYPES.filter((type) => type !== "request_by_form");

/** The numbers typed in a field, one per line or separated by commas or blanks. */
export function numbersIn(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((number) => number.trim())
    .filter(Boolean);
}

/** The nodes a user may choose from, loaded once. */
export function useNodes(): { nodes: Node[]; error: unknown } {
  const [nodes, setNodes] = useState<Node[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    api.nodes({ limit: 1000 }).then(
      (page) => live && setNodes(page.items),
      (caught: unknown) => live && setError(caught),
    );
    return () => {
      live = false;
    };
  }, []);
  return { nodes, error };
}

export function NodeSelect({ nodes, value, onChange }: { nodes: Node[]; value: string; onChange: (id: string) => void }) {
  const { t } = useI18n();
  return (
    <label>
      {t("ticket.node")}
      <select name="node" required value={value} onChange={(e) => onChange(e.target.value)}>
        {nodes.map((node) => (
          <option key={node.id} value={node.id} translate="no">
            {"\u00a0\u00a0".repeat(Math.max(0, node.depth))}
            {node.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** TK-1: file a ticket, with files on its first note; one Idempotency-Key per submission, so a retry files
 * it once. Files are checked against the limits before anything is sent. */
export function NewTicket({ me }: { me: Me }) {
  const { t } = useI18n();
  const { navigate } = useRouter();
  const { nodes, error: nodesError } = useNodes();
  const [nodeId, setNodeId] = useState("");
  const [type, setType] = useState<TicketType>("question");
  const [topic, setTopic] = useState("");
  const [description, setDescription] = useState("");
  const [severity, setSeverity] = useState<Severity>("medium");
  const [lines, setLines] = useState("");
  const [contact, setContact] = useState(me.phone);
  const [files, setFiles] = useState<File[]>([]);
  const [key] = useState(newIdempotencyKey);
  // Filed already (its files then failed to go): a second try sends only the files.
  const [created, setCreated] = useState<Ticket | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [filed, setFiled] = useState<{ ticket: Ticket; refused: Refused[] } | null>(null);

  useEffect(() => {
    if (!nodeId && nodes.length) setNodeId(nodes[0]!.id);
  }, [nodes, nodeId]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (refusals(files).length) return; // shown under the picker; nothing is sent
    setBusy(true);
    setError(null);
    try {
      const body: NewTicketBody = {
        node_id: nodeId,
        type,
        topic: topic.trim(),
        description: description.trim(),
        severity,
        priority: "normal",
        contact_msisdn: contact.trim() || null,
        related: { lines: numbersIn(lines) },
      };
      const ticket = created ?? (await api.fileTicket(body, key));
      setCreated(ticket);
      if (files.length) {
        const uploaded = await uploadAll(ticket.id, files);
        if (uploaded.refused.length) {
          setFiled({ ticket, refused: uploaded.refused });
          return;
        }
        await api.addNote(ticket.id, t("tickets.newFilesNote"), uploaded.ids);
      }
      navigate(`/tickets/${encodeURIComponent(ticket.id)}`);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (filed)
    return (
      <main id="main">
        <h1>{t("tickets.newTitle")}</h1>
        <p>
          <Message
            id="tickets.newFiledWithout"
            values={{
              number: (
                <Link to={`/tickets/${encodeURIComponent(filed.ticket.id)}`} dir="ltr" translate="no">
                  {filed.ticket.number}
                </Link>
              ),
            }}
          />
        </p>
        <FileRefusals refused={filed.refused} />
      </main>
    );

  return (
    <main id="main" className="new-ticket">
      <p>
        <Link to="/tickets">{t("common.back")}</Link>
      </p>
      <h1>{t("tickets.newTitle")}</h1>
      <ErrorMessage error={nodesError} />
      <form className="stacked" onSubmit={submit}>
        <NodeSelect nodes={nodes} value={nodeId} onChange={setNodeId} />
        <label>
          {t("ticket.type")}
          <select name="type" value={type} onChange={(e) => setType(e.target.value as TicketType)}>
            {TYPES.map((value) => (
              <option key={value} value={value}>
                {t(`ticket.type.${value}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("ticket.topic")}
          <input name="topic" required maxLength={200} value={topic} onChange={(e) => setTopic(e.target.value)} />
        </label>
        <label>
          {t("ticket.description")}
          <textarea
            name="description"
            required
            maxLength={10000}
            rows={6}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        <label>
          {t("ticket.severity")}
          <select name="severity" value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
            {SEVERITIES.map((value) => (
              <option key={value} value={value}>
                {t(`ticket.severity.${value}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("ticket.lines")}
          <textarea name="lines" dir="ltr" rows={2} value={lines} onChange={(e) => setLines(e.target.value)} />
          <small>{t("tickets.newLinesHint")}</small>
        </label>
        <label>
          {t("ticket.contact")}
          <input
            name="contact"
            dir="ltr"
            inputMode="tel"
            pattern="\+[0-9]{8,15}"
            value={contact}
            onChange={(e) => setContact(e.target.value)}
          />
          <small>{t("tickets.newContactHint")}</small>
        </label>
        <FilePicker files={files} onChange={setFiles} />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy || !nodeId}>
          {busy ? t("tickets.newSending") : t("tickets.newSubmit")}
        </button>
      </form>
    </main>
  );
}
