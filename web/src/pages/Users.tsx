import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type Node, type UserGrant, type Role, type User, type UsersQuery } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { Message, useI18n } from "../i18n";
import { Link, useRouter } from "../router";
import { usePages } from "../useLoad";
import { builtinRoleKey, RoleName } from "./Roles";

/** The nodes the caller sees, in tree order (flat, by path), read once a page; a node picker lists them. */
function useNodesAndRoles() {
  const [nodes, setNodes] = useState<Node[]>([]);
  const [roles, setRoles] = useState<Role[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const all: Node[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.nodes({ limit: 1000, cursor });
        all.push(...(page.items as Node[]));
        cursor = page.next_cursor ?? undefined;
      } while (cursor && all.length < 5000);
      const list = await api.roles();
      if (live) {
        setNodes(all);
        setRoles(list.items);
      }
    })().catch((caught: unknown) => live && setError(caught));
    return () => {
      live = false;
    };
  }, []);
  return { nodes, roles, error };
}

/** The nodes as a select's options, indented by depth (names are user data: not translated). */
export function NodeOptions({ nodes }: { nodes: Node[] }) {
  const top = Math.min(...nodes.map((n) => n.depth));
  return (
    <>
      {nodes.map((n) => (
        <option key={n.id} value={n.id} translate="no">
          {"\u00a0\u00a0".repeat(n.depth - top) + n.name}
        </option>
      ))}
    </>
  );
}

function GrantFields({
  nodes,
  roles,
  role,
  node,
  onRole,
  onNode,
}: {
  nodes: Node[];
  roles: Role[];
  role: string;
  node: string;
  onRole: (role: string) => void;
  onNode: (node: string) => void;
}) {
  const { t } = useI18n();
  return (
    <>
      <label>
        {t("users.role")}
        <select name="role" required value={role} onChange={(e) => onRole(e.target.value)}>
          <option value="">{t("users.pickRole")}</option>
          {roles.map((r) => {
            const key = builtinRoleKey(r.id);
            return (
              <option key={r.id} value={r.id} translate={key ? undefined : "no"}>
                {key ? t(key) : r.name}
              </option>
            );
          })}
        </select>
      </label>
      <label>
        {t("users.node")}
        <select name="node" required value={node} onChange={(e) => onNode(e.target.value)}>
          <option value="">{t("users.pickNode")}</option>
          <NodeOptions nodes={nodes} />
        </select>
      </label>
    </>
  );
}

function InviteForm({ onDone, onCancel }: { onDone: (user: User) => void; onCancel: () => void }) {
  const { t } = useI18n();
  const { nodes, roles, error: loadError } = useNodesAndRoles();
  const [form, setForm] = useState({ name: "", phone: "", email: "", role: "", node: "" });
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const answer = await api.inviteUser({
        name: form.name.trim(),
        phone: form.phone.trim(),
        email: form.email.trim(),
        grants: [{ role: form.role, node_id: form.node }],
      });
      onDone(answer.user);
    } catch (caught) {
      setError(caught);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="invite-title">
      <h2 id="invite-title">{t("users.new")}</h2>
      <p>{t("users.newText")}</p>
      <label>
        {t("users.name")}
        <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
      </label>
      <label>
        {t("users.phone")}
        <input
          required
          type="tel"
          dir="ltr"
          inputMode="tel"
          pattern="\+[0-9]{8,15}"
          value={form.phone}
          onChange={(e) => setForm({ ...form, phone: e.target.value })}
        />
        <small>{t("signIn.phoneHint")}</small>
      </label>
      <label>
        {t("users.email")}
        <input
          required
          type="email"
          dir="ltr"
          value={form.email}
          onChange={(e) => setForm({ ...form, email: e.target.value })}
        />
      </label>
      <GrantFields
        nodes={nodes}
        roles={roles}
        role={form.role}
        node={form.node}
        onRole={(role) => setForm({ ...form, role })}
        onNode={(node) => setForm({ ...form, node })}
      />
      <ErrorMessage error={loadError ?? error} />
      <div className="actions">
        <button type="submit" disabled={saving}>
          {t("users.create")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

const PAGE = 50;

/** The company's users: search and status filters, pages by cursor, and a new user with their first grant. */
export function Users({ canManage }: { canManage: boolean }) {
  const { t } = useI18n();
  const { navigate } = useRouter();
  const { nodes } = useNodesAndRoles();
  const [draft, setDraft] = useState<{ q: string; status: "" | "active" | "disabled"; node: string }>({
    q: "",
    status: "",
    node: "",
  });
  const [filters, setFilters] = useState(draft);
  const [inviting, setInviting] = useState(false);
  const {
    items: users,
    cursor,
    error,
    more,
  } = usePages((from) => {
    const query: UsersQuery = { limit: PAGE, sort: "display_name", cursor: from };
    if (filters.q) query.q = filters.q;
    if (filters.status) query.status = filters.status;
    if (filters.node) query.node_id = filters.node;
    return api.users(query);
  }, JSON.stringify(filters));

  return (
    <main id="main">
      <h1>{t("users.title")}</h1>
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <label>
          {t("users.search")}
          <input name="q" value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
        </label>
        <label>
          {t("users.status")}
          <select
            name="status"
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.target.value as "" | "active" | "disabled" })}
          >
            <option value="">{t("users.anyStatus")}</option>
            <option value="active">{t("users.status.active")}</option>
            <option value="disabled">{t("users.status.disabled")}</option>
          </select>
        </label>
        {nodes.length > 0 && (
          <label>
            {t("users.under")}
            <select name="node" value={draft.node} onChange={(e) => setDraft({ ...draft, node: e.target.value })}>
              <option value="">{t("history.anyNode")}</option>
              <NodeOptions nodes={nodes} />
            </select>
          </label>
        )}
        <button type="submit">{t("lines.apply")}</button>
      </form>
      {canManage && !inviting && (
        <p>
          <button type="button" onClick={() => setInviting(true)}>
            {t("users.new")}
          </button>
        </p>
      )}
      {inviting && (
        <InviteForm
          onCancel={() => setInviting(false)}
          onDone={(user) => navigate(`/users/${encodeURIComponent(user.id)}`)}
        />
      )}
      <ErrorMessage error={error} />
      {!users && !error && <p>{t("common.loading")}</p>}
      {users && users.length === 0 && <p>{t("users.none")}</p>}
      {users && users.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("users.name")}</th>
              <th scope="col">{t("users.phone")}</th>
              <th scope="col">{t("users.email")}</th>
              <th scope="col">{t("users.status")}</th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <tr key={user.id}>
                <td>
                  <Link to={`/users/${encodeURIComponent(user.id)}`} translate="no">
                    {user.display_name}
                  </Link>
                </td>
                <td dir="ltr" translate="no">
                  {user.phone}
                </td>
                <td dir="ltr" translate="no">
                  {user.email ?? ""}
                </td>
                <td>{t(`users.status.${user.status}`)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <p>
          <button type="button" onClick={more}>
            {t("common.more")}
          </button>
        </p>
      )}
    </main>
  );
}

/** One user: who they are, disable or enable them, and their grants (a role over a node): add and remove. */
export function UserPage({ id, canManage }: { id: string; canManage: boolean }) {
  const { t, formatDateTime } = useI18n();
  const { nodes, roles, error: loadError } = useNodesAndRoles();
  const [user, setUser] = useState<User | null>(null);
  const [grants, setGrants] = useState<UserGrant[]>([]);
  const [draft, setDraft] = useState({ role: "", node: "" });
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      const [found, list] = await Promise.all([api.user(id), api.grants(id)]);
      setUser(found);
      setGrants(list.items);
    } catch (caught) {
      setError(caught);
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      await load();
    } catch (caught) {
      setError(caught);
    }
  };
  const addGrant = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      await api.addGrant(id, { role: draft.role, node_id: draft.node });
      setDraft({ role: "", node: "" });
    });
  };
  const nodeNames = new Map(nodes.map((n) => [n.id, n.name]));

  return (
    <main id="main">
      <p>
        <Link to="/users">{t("common.back")}</Link>
      </p>
      <h1>
        {user ? (
          <Message id="users.pageTitle" values={{ name: <bdi translate="no">{user.display_name}</bdi> }} />
        ) : (
          t("users.title")
        )}
      </h1>
      <ErrorMessage error={error ?? loadError} />
      {!user && !error && <p>{t("common.loading")}</p>}
      {user && (
        <>
          <dl className="facts">
            <dt>{t("users.phone")}</dt>
            <dd dir="ltr" translate="no">
              {user.phone}
            </dd>
            <dt>{t("users.email")}</dt>
            <dd dir="ltr" translate="no">
              {user.email ?? ""}
            </dd>
            <dt>{t("users.status")}</dt>
            <dd data-testid="user-status">{t(`users.status.${user.status}`)}</dd>
            <dt>{t("users.password")}</dt>
            <dd>{user.has_password ? t("users.passwordSet") : t("users.passwordNotSet")}</dd>
            <dt>{t("users.created")}</dt>
            <dd>{formatDateTime(user.created_at)}</dd>
          </dl>
          {canManage && (
            <p>
              <button type="button" onClick={() => void act(() => api.setUserEnabled(id, user.status !== "active"))}>
                {user.status === "active" ? t("users.disable") : t("users.enable")}
              </button>
            </p>
          )}
          <h2>{t("users.grants")}</h2>
          {grants.length === 0 ? (
            <p>{t("users.noGrants")}</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t("users.role")}</th>
                  <th scope="col">{t("users.node")}</th>
                  <th scope="col">{t("users.granted")}</th>
                  {canManage && <th scope="col">{t("common.actions")}</th>}
                </tr>
              </thead>
              <tbody>
                {grants.map((grant) => (
                  <tr key={grant.id} data-testid="grant-row">
                    <td>
                      <RoleName id={grant.role} name={grant.role_name} />
                    </td>
                    <td translate="no">{nodeNames.get(grant.node_id) ?? grant.node_id}</td>
                    <td>{formatDateTime(grant.created_at)}</td>
                    {canManage && (
                      <td>
                        <button type="button" onClick={() => void act(() => api.removeGrant(id, grant.id))}>
                          {t("users.removeGrant")}
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {canManage && (
            <form className="filters" onSubmit={addGrant} aria-label={t("users.addGrant")}>
              <GrantFields
                nodes={nodes}
                roles={roles}
                role={draft.role}
                node={draft.node}
                onRole={(role) => setDraft({ ...draft, role })}
                onNode={(node) => setDraft({ ...draft, node })}
              />
              <button type="submit">{t("users.addGrant")}</button>
            </form>
          )}
        </>
      )}
    </main>
  );
}
