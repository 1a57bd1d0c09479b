import { useEffect, useState, type FormEvent } from "react";
import { api, type TicketsQuery, type TicketState, type TicketType } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { Link, useRouter } from "../router";
import { usePages } from "../useLoad";
import { SORTS, TICKET_STATES, TICKET_TYPES, type Sort } from "./tickets";

const PAGE = 50;

interface Filters {
  state: TicketState | "";
  type: TicketType | "";
  from: string;
  until: string;
  q: string;
  sort: Sort;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function oneOf<T extends string>(values: readonly T[], value: string | null, otherwise: T | ""): T | "" {
  return value !== null && (values as readonly string[]).includes(value) ? (value as T) : otherwise;
}

function filtersFrom(search: string): Filters {
  const params = new URLSearchParams(search);
  const day = (name: string) => {
    const value = params.get(name) ?? "";
    return DAY.test(value) ? value : "";
  };
  return {
    state: oneOf(TICKET_STATES, params.get("state"), ""),
    type: oneOf(TICKET_TYPES, params.get("type"), ""),
    from: day("from"),
    until: day("until"),
    q: params.get("q") ?? "",
    sort: (oneOf(SORTS, params.get("sort"), "-created_at") || "-created_at") as Sort,
  };
}

/** The start of a day in the user's time zone, as the API's instant. */
function startOf(day: string, plusDays = 0): string {
  const date = new Date(`${day}T00:00:00`);
  date.setDate(date.getDate() + plusDays);
  return date.toISOString();
}

/** TK-2: the customer's tickets, filtered and sorted (in the address, so a view can be shared), by cursor. */
export function Tickets() {
  const { t, formatDateTime, formatNumber } = useI18n();
  const { search, navigate } = useRouter();
  const filters = filtersFrom(search);
  const [draft, setDraft] = useState<Filters>(filters);

  const pages = usePages((from) => {
    const query: TicketsQuery = { limit: PAGE, cursor: from, sort: filters.sort };
    if (filters.state) query.state = [filters.state];
    if (filters.type) query.type = [filters.type];
    if (filters.from) query.created_from = startOf(filters.from);
    if (filters.until) query.created_until = startOf(filters.until, 1);
    if (filters.q) query.q = filters.q;
    return api.tickets(query);
  }, search);
  const { cursor, loading, error, more } = pages;
  const tickets = pages.items ?? [];

  useEffect(() => setDraft(filtersFrom(search)), [search]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams();
    if (draft.state) params.set("state", draft.state);
    if (draft.type) params.set("type", draft.type);
    if (draft.from) params.set("from", draft.from);
    if (draft.until) params.set("until", draft.until);
    if (draft.q.trim()) params.set("q", draft.q.trim());
    if (draft.sort !== "-created_at") params.set("sort", draft.sort);
    const text = params.toString();
    navigate(text ? `/tickets?${text}` : "/tickets");
  };

  return (
    <main id="main" className="tickets">
      <div className="title-row">
        <h1>{t("tickets.title")}</h1>
        <Link to="/tickets/new" className="button">
          {t("tickets.new")}
        </Link>
      </div>
      <form className="filters" onSubmit={apply} role="search" aria-label={t("tickets.filters")}>
        <label>
          {t("tickets.state")}
          <select
            name="state"
            value={draft.state}
            onChange={(e) => setDraft({ ...draft, state: e.target.value as TicketState | "" })}
          >
            <option value="">{t("tickets.anyState")}</option>
            {TICKET_STATES.map((state) => (
              <option key={state} value={state}>
                {t(`ticket.state.${state}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("tickets.type")}
          <select
            name="type"
            value={draft.type}
            onChange={(e) => setDraft({ ...draft, type: e.target.value as TicketType | "" })}
          >
            <option value="">{t("tickets.anyType")}</option>
            {TICKET_TYPES.map((type) => (
              <option key={type} value={type}>
                {t(`ticket.type.${type}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("tickets.from")}
          <input
            type="date"
            name="from"
            value={draft.from}
            onChange={(e) => setDraft({ ...draft, from: e.target.value })}
          />
        </label>
        <label>
          {t("tickets.until")}
          <input
            type="date"
            name="until"
            value={draft.until}
            onChange={(e) => setDraft({ ...draft, until: e.target.value })}
          />
        </label>
        <label>
          {t("tickets.search")}
          <input
            type="search"
            name="q"
            maxLength={200}
            value={draft.q}
            onChange={(e) => setDraft({ ...draft, q: e.target.value })}
          />
        </label>
        <label>
          {t("tickets.sort")}
          <select name="sort" value={draft.sort} onChange={(e) => setDraft({ ...draft, sort: e.target.value as Sort })}>
            {SORTS.map((sort) => (
              <option key={sort} value={sort}>
                {t(`tickets.sort.${sort}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">{t("tickets.apply")}</button>
      </form>
      <ErrorMessage error={error} />
      <p aria-live="polite" className="count" data-testid="tickets-count">
        {t("tickets.shown", { count: formatNumber(tickets.length) })}
      </p>
      {tickets.length > 0 && (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">{t("tickets.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("tickets.colNumber")}</th>
                <th scope="col">{t("tickets.colTopic")}</th>
                <th scope="col">{t("tickets.colType")}</th>
                <th scope="col">{t("tickets.colState")}</th>
                <th scope="col">{t("tickets.colCreated")}</th>
                <th scope="col">{t("tickets.colUpdated")}</th>
              </tr>
            </thead>
            <tbody>
              {tickets.map((ticket) => (
                <tr key={ticket.id}>
                  <td>
                    <Link to={`/tickets/${encodeURIComponent(ticket.id)}`} dir="ltr" translate="no">
                      {ticket.number}
                    </Link>
                  </td>
                  <td translate="no">
                    <bdi>{ticket.topic}</bdi>
                  </td>
                  <td>{t(`ticket.type.${ticket.type}`)}</td>
                  <td className={`ticket-state ticket-state-${ticket.state}`}>{t(`ticket.state.${ticket.state}`)}</td>
                  <td>{formatDateTime(ticket.created_at)}</td>
                  <td>{formatDateTime(ticket.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="count">
        {loading
          ? t("common.loading")
          : error
            ? null
            : tickets.length === 0
              ? t("tickets.none")
              : cursor
                ? null
                : t("tickets.end")}
      </p>
      {cursor && !loading && (
        <button type="button" className="link" onClick={more}>
          {t("tickets.more")}
        </button>
      )}
    </main>
  );
}
