import { useEffect, useId, useState, type FormEvent } from "react";
import { api, heldPermissions, type GroupColour, type GroupIcon, type LineGroup } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { GROUP_COLOUR_VALUES, GROUP_COLOURS, GROUP_ICONS, GroupBadge, GroupIconMark } from "../groups";
import { Message, useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { NodePicker } from "../NodePicker";
import { Link } from "../router";
import { useAction } from "../useLoad";

function byName(a: LineGroup, b: LineGroup): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1;
}

/** The lines page showing a group's lines: by its name under its node (the selection an operation can take too). */
export function groupLinesLink(group: LineGroup): string {
  const params = new URLSearchParams({ group: group.name });
  if (group.node_id) params.set("node_id", group.node_id);
  return `/lines?${params.toString()}`;
}

/** The icon and the colour of a group, each chosen among the API's (radio buttons named by `prefix`). */
function StyleFields({
  prefix,
  icon,
  colour,
  onIcon,
  onColour,
}: {
  prefix: string;
  icon: GroupIcon;
  colour: GroupColour;
  onIcon: (icon: GroupIcon) => void;
  onColour: (colour: GroupColour) => void;
}) {
  const { t } = useI18n();
  return (
    <>
      <fieldset className="group-style">
        <legend>{t("groups.icon")}</legend>
        {GROUP_ICONS.map((one) => (
          <label key={one} className="check swatch">
            <input type="radio" name={`${prefix}-icon`} value={one} checked={icon === one} onChange={() => onIcon(one)} />
            <GroupIconMark icon={one} colour={colour} />
            {t(`groups.icon.${one}` as MessageKey)}
          </label>
        ))}
      </fieldset>
      <fieldset className="group-style">
        <legend>{t("groups.colour")}</legend>
        {GROUP_COLOURS.map((one) => (
          <label key={one} className="check swatch">
            <input
              type="radio"
              name={`${prefix}-colour`}
              value={one}
              checked={colour === one}
              onChange={() => onColour(one)}
            />
            <span className="colour-dot" aria-hidden="true" style={{ background: GROUP_COLOUR_VALUES[one] }} />
            {t(`groups.colour.${one}` as MessageKey)}
          </label>
        ))}
      </fieldset>
    </>
  );
}

/** One group being renamed or restyled in place. */
function EditGroup({
  group,
  onSaved,
  onCancel,
}: {
  group: LineGroup;
  onSaved: (saved: LineGroup) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const [name, setName] = useState(group.name);
  const [icon, setIcon] = useState<GroupIcon>(group.icon);
  const [colour, setColour] = useState<GroupColour>(group.colour);
  const save = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run(async () => {
      const body: { name?: string; icon?: GroupIcon; colour?: GroupColour } = {};
      if (name.trim() !== group.name) body.name = name.trim();
      if (icon !== group.icon) body.icon = icon;
      if (colour !== group.colour) body.colour = colour;
      onSaved(await api.updateLineGroup(group.id, body));
    });
  };
  return (
    <form className="group-form" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t("groups.editTitle", { name: group.name })}</h3>
      <label>
        {t("groups.name")}
        <input name="group-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <StyleFields prefix={`edit-${group.id}`} icon={icon} colour={colour} onIcon={setIcon} onColour={setColour} />
      <div className="buttons">
        <button type="submit" disabled={save.busy}>
          {t("groups.save")}
        </button>
        <button type="button" className="link" onClick={onCancel}>
          {t("groups.cancel")}
        </button>
      </div>
      <ErrorMessage error={save.error} />
    </form>
  );
}

/**
 * The groups of lines the user sees (AC-5): each with its icon, colour and count of lines (a link to them), made
 * at a node, renamed or restyled in place, deleted after a confirmation (its lines stay, in no group). Groups kept
 * above the user's scope are shown, not changed.
 */
export function Groups() {
  const { t, formatNumber } = useI18n();
  const id = useId();
  const [groups, setGroups] = useState<LineGroup[] | null>(null);
  const [name, setName] = useState("");
  const [nodeId, setNodeId] = useState("");
  const [icon, setIcon] = useState<GroupIcon>("people");
  const [colour, setColour] = useState<GroupColour>("blue");
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const load = useAction();
  const change = useAction();
  const mayChange = heldPermissions().has("lines:label");

  useEffect(() => {
    void load.run(async () => setGroups((await api.lineGroups()).items));
  }, [load.run]);

  const create = (event: FormEvent) => {
    event.preventDefault();
    void change.run(async () => {
      const made = await api.createLineGroup({ node_id: nodeId, name: name.trim(), icon, colour });
      setGroups([...(groups ?? []), made].sort(byName));
      setName("");
      setNote(t("groups.made", { name: made.name }));
    });
  };
  const saved = (group: LineGroup) => {
    setGroups((groups ?? []).map((one) => (one.id === group.id ? group : one)).sort(byName));
    setEditing(null);
    setNote(t("groups.saved", { name: group.name }));
  };
  const remove = (group: LineGroup) =>
    void change.run(async () => {
      await api.deleteLineGroup(group.id);
      setGroups((groups ?? []).filter((one) => one.id !== group.id));
      setDeleting(null);
      setNote(t("groups.deleted", { name: group.name }));
    });

  return (
    <main id="main" className="groups">
      <h1>{t("groups.title")}</h1>
      <p className="hint">{t("groups.intro")}</p>
      <ErrorMessage error={load.error} />
      {groups === null ? (
        !load.error && <p className="count">{t("common.loading")}</p>
      ) : groups.length === 0 ? (
        <p className="count">{t("groups.none")}</p>
      ) : (
        <ul className="group-list" aria-label={t("groups.title")}>
          {groups.map((group) => (
            <li key={group.id} data-testid="group">
              {editing === group.id ? (
                <EditGroup group={group} onSaved={saved} onCancel={() => setEditing(null)} />
              ) : (
                <>
                  <GroupBadge name={group.name} group={group} />
                  <Link to={groupLinesLink(group)} className="group-lines">
                    {t("groups.lines", { count: formatNumber(group.line_count) })}
                  </Link>
                  {group.node_id === null ? (
                    <small>{t("groups.fromAbove")}</small>
                  ) : (
                    mayChange && (
                      <span className="buttons">
                        <button type="button" onClick={() => setEditing(group.id)}>
                          <Message id="groups.edit" values={{ name: <bdi translate="no">{group.name}</bdi> }} />
                        </button>
                        <button type="button" className="danger" onClick={() => setDeleting(group.id)}>
                          <Message id="groups.delete" values={{ name: <bdi translate="no">{group.name}</bdi> }} />
                        </button>
                      </span>
                    )
                  )}
                  {deleting === group.id && (
                    <div className="confirm" role="group" aria-labelledby={`${id}-confirm-${group.id}`}>
                      <p id={`${id}-confirm-${group.id}`}>
                        <Message
                          id="groups.deleteConfirm"
                          values={{
                            name: <bdi translate="no">{group.name}</bdi>,
                            count: formatNumber(group.line_count),
                          }}
                        />
                      </p>
                      <div className="buttons">
                        <button type="button" className="danger" disabled={change.busy} onClick={() => remove(group)}>
                          {t("groups.deleteYes")}
                        </button>
                        <button type="button" className="link" onClick={() => setDeleting(null)}>
                          {t("groups.cancel")}
                        </button>
                      </div>
                    </div>
                  )}
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <p aria-live="polite" className="count" data-testid="groups-note">
        {note}
      </p>
      {mayChange && (
        <form className="group-form" onSubmit={create} aria-labelledby={`${id}-new`}>
          <h2 id={`${id}-new`}>{t("groups.new")}</h2>
          <label>
            {t("groups.name")}
            <input name="new-group-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <NodePicker name="group-node" label={t("groups.node")} value={nodeId} onChange={setNodeId} />
          <StyleFields prefix="new" icon={icon} colour={colour} onIcon={setIcon} onColour={setColour} />
          <button type="submit" disabled={change.busy}>
            {t("groups.create")}
          </button>
          <ErrorMessage error={change.error} />
        </form>
      )}
    </main>
  );
}
