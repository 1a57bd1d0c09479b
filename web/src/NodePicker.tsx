import { useEffect, useId, useState } from "react";
import { api, type NodeData } from "./api/client";
import { ErrorMessage } from "./ErrorMessage";
import { useI18n } from "./i18n";
import type { MessageKey } from "./i18n/en";

/** How many nodes the picker lists at once: a name typed narrows a large tree to these. */
export const PICKER_LIMIT = 50;

/**
 * A node of the hierarchy chosen from a list, narrowed by a part of its name (the API's ``q``): for moving
 * lines or a node elsewhere. ``exclude`` leaves out nodes that cannot be chosen (a node's own subtree).
 */
export function NodePicker({
  label,
  value,
  onChange,
  name,
  exclude,
  required = true,
  kind,
}: {
  label: string;
  value: string;
  onChange: (id: string) => void;
  name: string;
  exclude?: (node: NodeData) => boolean;
  required?: boolean;
  /** Only nodes of this kind (e.g. personal accounts, to bill lines to). */
  kind?: string;
}) {
  const { t } = useI18n();
  const id = useId();
  const [search, setSearch] = useState("");
  const [nodes, setNodes] = useState<NodeData[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      api.nodes({ q: search.trim() || undefined, limit: PICKER_LIMIT, sort: "path", kind: kind ? [kind] : undefined }).then(
        (page) => {
          if (!live) return;
          setError(null);
          setNodes(page.items as NodeData[]);
        },
        (caught: unknown) => live && setError(caught),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [search, kind]);

  const offered = (nodes ?? []).filter((node) => !exclude?.(node));
  return (
    <fieldset className="node-picker">
      <legend>{label}</legend>
      <label>
        {t("picker.search")}
        <input type="search" name={`${name}-search`} value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      <label>
        {t("picker.node")}
        <select name={name} required={required} value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={`${id}-count`}>
          <option value="">{nodes ? t("picker.choose") : t("common.loading")}</option>
          {offered.map((node) => (
            <option key={node.id} value={node.id} translate="no">
              {`${node.name} (${t(`nodes.kind.${node.kind}` as MessageKey)})`}
            </option>
          ))}
        </select>
      </label>
      <p id={`${id}-count`} className="count">
        {nodes && (offered.length ? t("picker.found", { count: offered.length }) : t("picker.none"))}
      </p>
      <ErrorMessage error={error} />
    </fieldset>
  );
}
