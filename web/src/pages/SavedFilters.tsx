import { useEffect, useState, type FormEvent } from "react";
import { api, type SavedFilter } from "../api/client";
import { ErrorMessage } from "../ErrorMessage";
import { useI18n } from "../i18n";
import { filtersOf, matching, savedFilterBody, type LineFilters } from "../savedFilters";
import { useAction } from "../useLoad";

function byName(a: SavedFilter, b: SavedFilter): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The user's saved filters of lines: one applied puts its fields in the address (as the filters do), the page's
 * filters saved under a name, one deleted. Read when first opened: the lines page asks for nothing more until then.
 */
export function SavedFilters({ filters, onApply }: { filters: LineFilters; onApply: (next: LineFilters) => void }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<SavedFilter[] | null>(null);
  const [choice, setChoice] = useState("");
  const [name, setName] = useState("");
  const [note, setNote] = useState("");
  const load = useAction();
  const change = useAction();

  useEffect(() => {
    if (open && list === null) void load.run(async () => setList((await api.savedFilters()).items));
  }, [open, list, load.run]);

  const shown = list ?? [];
  const current = matching(shown, filters);
  useEffect(() => setChoice(current?.id ?? ""), [current?.id]);
  const chosen = shown.find((one) => one.id === choice);

  const save = (event: FormEvent) => {
    event.preventDefault();
    void change.run(async () => {
      const saved = await api.saveFilter(savedFilterBody(name, filters));
      setList([...(list ?? []), saved].sort(byName));
      setChoice(saved.id);
      setName("");
      setNote(t("lines.saved.saved", { name: saved.name }));
    });
  };
  const remove = (gone: SavedFilter) =>
    void change.run(async () => {
      await api.deleteSavedFilter(gone.id);
      setList((list ?? []).filter((one) => one.id !== gone.id));
      setChoice("");
      setNote(t("lines.saved.deleted", { name: gone.name }));
    });

  return (
    <details className="saved-filters" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>{t("lines.saved.title")}</summary>
      {list === null ? (
        load.error ? (
          <ErrorMessage error={load.error} />
        ) : (
          open && <p className="count">{t("common.loading")}</p>
        )
      ) : (
        <>
          <div className="filters">
            <label>
              {t("lines.saved.choose")}
              <select name="saved-filter" value={choice} onChange={(event) => setChoice(event.target.value)}>
                <option value="">{shown.length ? t("lines.saved.pick") : t("lines.saved.none")}</option>
                {shown.map((one) => (
                  <option key={one.id} value={one.id} translate="no">
                    {one.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" disabled={!chosen} onClick={() => chosen && onApply(filtersOf(chosen))}>
              {t("lines.saved.apply")}
            </button>
            <button type="button" className="danger" disabled={!chosen || change.busy} onClick={() => chosen && remove(chosen)}>
              {t("lines.saved.delete")}
            </button>
          </div>
          <form className="filters" onSubmit={save}>
            <label>
              {t("lines.saved.name")}
              <input
                name="saved-filter-name"
                required
                maxLength={100}
                value={name}
                onChange={(event) => setName(event.target.value)}
              />
            </label>
            <button type="submit" disabled={change.busy || Boolean(filters.q)}>
              {t("lines.saved.save")}
            </button>
            {filters.q && <small>{t("lines.saved.noSearch")}</small>}
          </form>
          <ErrorMessage error={change.error} />
          <p aria-live="polite" className="count" data-testid="saved-filters-note">
            {note}
          </p>
        </>
      )}
    </details>
  );
}
