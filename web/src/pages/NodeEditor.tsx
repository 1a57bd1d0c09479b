import { useEffect, useId, useState, type FormEvent, type ReactNode } from "react";
import { api, type NodeData } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { Message, useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { NodePicker } from "../NodePicker";

/** The kinds a customer makes, renames, moves and deletes; the company and the billing nodes are the operator's. */
export const CUSTOMER_KINDS = ["department", "branch", "city"] as const;
type CustomerKind = (typeof CUSTOMER_KINDS)[number];
/** The kinds that hold departments, branches and cities. */
const PARENT_KINDS: ReadonlySet<string> = new Set(["company", ...CUSTOMER_KINDS]);

/** What the editor offers for a node: children under the company and the customer's own kinds, the rest to those. */
export function editsFor(node: Pick<NodeData, "kind">): { create: boolean; change: boolean } {
  return { create: PARENT_KINDS.has(node.kind), change: (CUSTOMER_KINDS as readonly string[]).includes(node.kind) };
}

/** Whether ``candidate`` may become the new parent of ``node``: a parent kind, not the node itself nor below it. */
export function mayHold(candidate: Pick<NodeData, "kind" | "path" | "id">, node: Pick<NodeData, "path" | "id" | "parent_id">) {
  return (
    PARENT_KINDS.has(candidate.kind) &&
    candidate.id !== node.parent_id &&
    !candidate.path.startsWith(node.path)
  );
}

export type NodeChange =
  | { kind: "created"; node: NodeData }
  | { kind: "renamed"; node: NodeData }
  | { kind: "moved"; node: NodeData; from: string | null }
  | { kind: "deleted"; node: NodeData };

/**
 * Changing the hierarchy at one node (hierarchy:manage): a department, branch or city under it; its new name;
 * another parent for it and everything below; its deletion after a confirmation. The API's refusals (a node
 * that still holds lines, a name its sibling has) are shown in the user's language.
 */
export function NodeEditor({ node, onChange }: { node: NodeData; onChange: (change: NodeChange) => void }) {
  const { t } = useI18n();
  const id = useId();
  const edits = editsFor(node);
  const [childKind, setChildKind] = useState<CustomerKind>("department");
  const [childName, setChildName] = useState("");
  const [name, setName] = useState(node.name);
  const [parent, setParent] = useState("");
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<ReactNode>(null);

  useEffect(() => {
    setName(node.name);
    setParent("");
    setDeleting(false);
    setError(null);
  }, [node]);

  const run = async (what: () => Promise<NodeChange>, message: ReactNode) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const change = await what();
      setDone(message);
      onChange(change);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const withName = (key: MessageKey, name: string) => (
    <Message id={key} values={{ name: <bdi translate="no">{name}</bdi> }} />
  );
  const create = (event: FormEvent) => {
    event.preventDefault();
    const named = childName.trim();
    void run(async () => {
      const created = await api.createNode({ parent_id: node.id, kind: childKind, name: named });
      setChildName("");
      return { kind: "created", node: created };
    }, withName("nodes.edit.created", named));
  };
  const rename = (event: FormEvent) => {
    event.preventDefault();
    const named = name.trim();
    void run(async () => ({ kind: "renamed", node: await api.renameNode(node.id, named) }), t("nodes.edit.renamed"));
  };
  const move = (event: FormEvent) => {
    event.preventDefault();
    void run(
      async () => ({ kind: "moved", node: (await api.moveNode(node.id, parent)).node, from: node.parent_id }),
      t("nodes.edit.moved"),
    );
  };
  const remove = () =>
    void run(async () => {
      await api.deleteNode(node.id);
      return { kind: "deleted", node };
    }, withName("nodes.edit.deleted", node.name));

  if (!edits.create && !edits.change) return null;
  return (
    <section className="node-editor" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t("nodes.edit.title")}</h3>
      {edits.create && (
        <form onSubmit={create} aria-labelledby={`${id}-create`}>
          <h4 id={`${id}-create`}>{t("nodes.edit.createTitle")}</h4>
          <label>
            {t("nodes.kindLabel")}
            <select name="kind" value={childKind} onChange={(e) => setChildKind(e.target.value as CustomerKind)}>
              {CUSTOMER_KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {t(`nodes.kind.${kind}` as MessageKey)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("nodes.edit.name")}
            <input name="name" required maxLength={200} value={childName} onChange={(e) => setChildName(e.target.value)} />
          </label>
          <button type="submit" disabled={busy || !childName.trim()}>
            {t("nodes.edit.create")}
          </button>
        </form>
      )}
      {edits.change && (
        <>
          <form onSubmit={rename} aria-labelledby={`${id}-rename`}>
            <h4 id={`${id}-rename`}>{t("nodes.edit.renameTitle")}</h4>
            <label>
              {t("nodes.edit.newName")}
              <input name="new-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
            </label>
            <button type="submit" disabled={busy || !name.trim() || name.trim() === node.name}>
              {t("nodes.edit.rename")}
            </button>
          </form>
          <form onSubmit={move} aria-labelledby={`${id}-move`}>
            <h4 id={`${id}-move`}>{t("nodes.edit.moveTitle")}</h4>
            <NodePicker
              key={node.id}
              name="parent_id"
              label={t("nodes.edit.newParent")}
              value={parent}
              onChange={setParent}
              exclude={(candidate) => !mayHold(candidate, node)}
            />
            <button type="submit" disabled={busy || !parent}>
              {t("nodes.edit.move")}
            </button>
          </form>
          <div aria-labelledby={`${id}-delete`} role="group">
            <h4 id={`${id}-delete`}>{t("nodes.edit.deleteTitle")}</h4>
            {!deleting ? (
              <button type="button" className="danger" disabled={busy} onClick={() => setDeleting(true)}>
                {t("nodes.edit.delete")}
              </button>
            ) : (
              <div className="confirm">
                <p>
                  <strong>{withName("nodes.edit.confirmDelete", node.name)}</strong>
                </p>
                <div className="buttons">
                  <button type="button" className="danger" disabled={busy} onClick={remove}>
                    {t("nodes.edit.deleteConfirm")}
                  </button>
                  <button type="button" className="link" disabled={busy} onClick={() => setDeleting(false)}>
                    {t("nodes.edit.keep")}
                  </button>
                </div>
              </div>
            )}
          </div>
        </>
      )}
      <ErrorMessage error={error} />
      {done && (
        <p role="status" className="done">
          {done}
        </p>
      )}
    </section>
  );
}
