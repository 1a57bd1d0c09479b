import { useCallback, useEffect, useState } from "react";
import { api, type Permission, type Role } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { en, type MessageKey } from "../i18n/en";
import { byCategory, CategoryName, PermissionName, RoleEditor } from "./RoleEditor";

/** The catalogue's name of a predefined role; null for a custom one (its name is the customer's). */
export function builtinRoleKey(id: string): MessageKey | null {
  const key = `roles.builtin.${id}`;
  return key in en ? (key as MessageKey) : null;
}

/** A role's name: a predefined one's in the user's language, a custom one's as the customer wrote it. */
export function RoleName({ id, name }: { id: string; name: string }) {
  const { t } = useI18n();
  const key = builtinRoleKey(id);
  return key ? <>{t(key)}</> : <bdi translate="no">{name}</bdi>;
}

function RoleText({ role }: { role: Role }) {
  const { t } = useI18n();
  const key = `roles.builtinText.${role.id}`;
  if (role.predefined && key in en) return <>{t(key as MessageKey)}</>;
  return role.description ? <bdi translate="no">{role.description}</bdi> : null;
}

type Editing = { role?: Role } | null;

/** Roles (ID-10): the predefined ones, read only, and the customer's own, made from permission checkboxes. */
export function Roles({ canManage }: { canManage: boolean }) {
  const { t, formatNumber } = useI18n();
  const [roles, setRoles] = useState<Role[] | null>(null);
  const [permissions, setPermissions] = useState<Permission[]>([]);
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      const [list, catalogue] = await Promise.all([api.roles(), api.permissions()]);
      setRoles(list.items);
      setPermissions(catalogue.items);
    } catch (caught) {
      setError(caught);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const remove = async (role: Role) => {
    setError(null);
    try {
      await api.deleteRole(role.id);
      setDeleting(null);
      await load();
    } catch (caught) {
      setError(caught);
    }
  };

  const catalogue = new Map(permissions.map((p) => [p.name, p]));
  return (
    <main id="main">
      <h1>{t("roles.title")}</h1>
      <ErrorMessage error={error} />
      {canManage && roles && !editing && (
        <p>
          <button type="button" onClick={() => setEditing({})}>
            {t("roles.new")}
          </button>
        </p>
      )}
      {editing && (
        <RoleEditor
          key={editing.role?.id ?? "new"}
          permissions={permissions}
          role={editing.role}
          onCancel={() => setEditing(null)}
          onSave={async (body) => {
            if (editing.role) await api.updateRole(editing.role.id, body);
            else await api.createRole(body);
            setEditing(null);
            await load();
          }}
        />
      )}
      {!roles && !error && <p>{t("common.loading")}</p>}
      {roles && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("roles.name")}</th>
              <th scope="col">{t("roles.kind")}</th>
              <th scope="col">{t("roles.permissions")}</th>
              <th scope="col">{t("common.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {roles.map((role) => (
              <tr key={role.id} data-testid="role-row">
                <td>
                  <strong>
                    <RoleName id={role.id} name={role.name} />
                  </strong>
                  <br />
                  <small>
                    <RoleText role={role} />
                  </small>
                </td>
                <td>{role.predefined ? t("roles.predefined") : t("roles.custom")}</td>
                <td>
                  <details>
                    <summary>{t("roles.permissionCount", { count: formatNumber(role.permissions.length) })}</summary>
                    <ul className="permission-list">
                      {byCategory(role.permissions.map((n) => catalogue.get(n) ?? { name: n, description: n })).map(
                        ([category, items]) => (
                          <li key={category}>
                            <CategoryName category={category} />
                            <ul>
                              {items.map((p) => (
                                <li key={p.name}>
                                  <PermissionName permission={p} />
                                </li>
                              ))}
                            </ul>
                          </li>
                        ),
                      )}
                    </ul>
                  </details>
                </td>
                <td>
                  {canManage && !role.predefined && (
                    <div className="actions">
                      <button type="button" onClick={() => setEditing({ role })}>
                        {t("roles.editButton")}
                      </button>
                      {deleting === role.id ? (
                        <>
                          <button type="button" className="danger" onClick={() => void remove(role)}>
                            {t("roles.confirmDelete")}
                          </button>
                          <button type="button" onClick={() => setDeleting(null)}>
                            {t("common.cancel")}
                          </button>
                        </>
                      ) : (
                        <button type="button" onClick={() => setDeleting(role.id)}>
                          {t("roles.delete")}
                        </button>
                      )}
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
