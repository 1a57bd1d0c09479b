import { useState, type FormEvent } from "react";
import type { Permission, Role, RoleBody } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { en, type MessageKey } from "../i18n/en";

/** The permissions by category (`<category>:<action>`), in the catalogue's order. */
export function byCategory(permissions: Permission[]): [string, Permission[]][] {
  const groups = new Map<string, Permission[]>();
  for (const permission of permissions) {
    const category = permission.name.split(":")[0] ?? permission.name;
    groups.set(category, [...(groups.get(category) ?? []), permission]);
  }
  return [...groups];
}

function known(key: string): key is MessageKey {
  return key in en;
}

/** A permission's name in the user's language; one the console does not know yet keeps the API's text. */
export function PermissionName({ permission }: { permission: Permission }) {
  const { t } = useI18n();
  const key = `roles.perm.${permission.name}`;
  return known(key) ? <>{t(key)}</> : <span translate="no">{permission.description}</span>;
}

export function CategoryName({ category }: { category: string }) {
  const { t } = useI18n();
  const key = `roles.category.${category}`;
  return known(key) ? <>{t(key)}</> : <span translate="no">{category}</span>;
}

/**
 * ID-10: a custom role built from permission checkboxes, one group per category, each with a box that takes
 * or leaves the whole category. `onSave` gets the name, description and the chosen permissions in the
 * catalogue's order.
 */
export function RoleEditor({
  permissions,
  role,
  onSave,
  onCancel,
}: {
  permissions: Permission[];
  role?: Role;
  onSave: (body: RoleBody) => Promise<unknown>;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState(role?.name ?? "");
  const [description, setDescription] = useState(role?.description ?? "");
  const [chosen, setChosen] = useState<ReadonlySet<string>>(() => new Set(role?.permissions ?? []));
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [empty, setEmpty] = useState(false);

  const toggle = (names: string[], on: boolean) =>
    setChosen((before) => {
      const next = new Set(before);
      for (const n of names) if (on) next.add(n);
      else next.delete(n);
      return next;
    });

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const list = permissions.map((p) => p.name).filter((n) => chosen.has(n));
    setEmpty(list.length === 0);
    if (list.length === 0) return;
    setSaving(true);
    setError(null);
    try {
      await onSave({ name: name.trim(), description: description.trim(), permissions: list });
    } catch (caught) {
      setError(caught);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="role-editor" onSubmit={save} aria-labelledby="role-editor-title">
      <h2 id="role-editor-title">{role ? t("roles.edit") : t("roles.new")}</h2>
      <label>
        {t("roles.name")}
        <input value={name} required maxLength={100} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        {t("roles.description")}
        <input value={description} maxLength={500} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <div className="categories">
        {byCategory(permissions).map(([category, items]) => {
          const names = items.map((p) => p.name);
          const count = names.filter((n) => chosen.has(n)).length;
          return (
            <fieldset key={category} className="category">
              <legend>
                <label className="check">
                  <input
                    type="checkbox"
                    checked={count === names.length}
                    ref={(box) => {
                      if (box) box.indeterminate = count > 0 && count < names.length;
                    }}
                    onChange={(e) => toggle(names, e.target.checked)}
                  />
                  <CategoryName category={category} />
                </label>
              </legend>
              {items.map((permission) => (
                <label key={permission.name} className="check">
                  <input
                    type="checkbox"
                    name="permission"
                    value={permission.name}
                    checked={chosen.has(permission.name)}
                    onChange={(e) => toggle([permission.name], e.target.checked)}
                  />
                  <PermissionName permission={permission} />
                </label>
              ))}
            </fieldset>
          );
        })}
      </div>
      {empty && (
        <p role="alert" className="error">
          {t("roles.pickOne")}
        </p>
      )}
      <ErrorMessage error={error} />
      <div className="actions">
        <button type="submit" disabled={saving}>
          {t("roles.save")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
