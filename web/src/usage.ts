// How often this browser opened each section, for the home page's order (UI-2). Only counts are stored.
const KEY = "simfleet.sections";

function counts(): Record<string, number> {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(KEY) ?? "{}");
    return parsed && typeof parsed === "object" ? (parsed as Record<string, number>) : {};
  } catch {
    return {};
  }
}

export function recordVisit(section: string): void {
  const all = counts();
  all[section] = (all[section] ?? 0) + 1;
  try {
    window.localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // Not counted then.
  }
}

/** The sections, most visited first; ties keep the given order. */
export function sectionsByUse(sections: string[]): string[] {
  const all = counts();
  return sections
    .map((section, index) => ({ section, index, n: Number(all[section]) || 0 }))
    .sort((a, b) => b.n - a.n || a.index - b.index)
    .map((item) => item.section);
}
