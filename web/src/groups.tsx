// Groups of lines (AC-5) as the console draws them: each of the API's icons and colours, and a group's badge.
import { useEffect, useState } from "react";
import { api, type GroupColour, type GroupIcon, type LineGroup } from "./api/client";

/** The API's icons (its schema's enum), each a 24×24 outline; a new icon in the API fails the type check here. */
export const GROUP_ICON_PATHS: Record<GroupIcon, string> = {
  people: "M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM3 20c0-3.3 2.7-6 6-6s6 2.7 6 6M16 5.2a3 3 0 0 1 0 5.6M21 20c0-2.8-1.9-5.2-4.5-5.8",
  truck: "M2 6h11v10H2zM13 10h4l4 4v2h-8zM6 20a2 2 0 1 0 0-4 2 2 0 0 0 0 4zM17 20a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
  briefcase: "M3 8h18v11H3zM8 8V5h8v3M3 13h18",
  headset: "M4 16v-4a8 8 0 0 1 16 0v4M4 15h3v5H4zM17 15h3v5h-3z",
  wrench: "M14.5 4.5a4 4 0 0 0 5 5L10 19a2.1 2.1 0 0 1-3-3l9.5-9.5z",
  star: "M12 3l2.8 5.7 6.2.9-4.5 4.4 1.1 6.2L12 17.3l-5.6 2.9 1.1-6.2L3 9.6l6.2-.9z",
  building: "M5 21V3h10v18M15 9h4v12M3 21h18M8 7h4M8 11h4M8 15h4",
  phone: "M7 2h10v20H7zM11 18h2",
};
export const GROUP_ICONS = Object.keys(GROUP_ICON_PATHS) as GroupIcon[];

/** The API's palette, each drawn dark enough to stand out on white (3:1 at least, as graphics must). */
export const GROUP_COLOUR_VALUES: Record<GroupColour, string> = {
  grey: "#5b6472",
  red: "#c62828",
  orange: "#b45309",
  yellow: "#8a6d00",
  green: "#2e7d32",
  teal: "#00796b",
  blue: "#1565c0",
  purple: "#6a1b9a",
  pink: "#ad1457",
};
export const GROUP_COLOURS = Object.keys(GROUP_COLOUR_VALUES) as GroupColour[];

/** A group's icon in its colour; decorative (the group's name is always written beside it). */
export function GroupIconMark({ icon, colour }: { icon: GroupIcon; colour: GroupColour }) {
  return (
    <svg
      className="group-icon"
      viewBox="0 0 24 24"
      width="16"
      height="16"
      aria-hidden="true"
      focusable="false"
      fill="none"
      stroke={GROUP_COLOUR_VALUES[colour]}
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      <path d={GROUP_ICON_PATHS[icon]} />
    </svg>
  );
}

/** A group's name with its icon and colour; a bare name (a group not among those listed) shows plain. */
export function GroupBadge({ name, group }: { name: string; group?: LineGroup }) {
  return (
    <span
      className="group-tag"
      style={group ? { borderColor: GROUP_COLOUR_VALUES[group.colour] } : undefined}
      data-colour={group?.colour}
      data-icon={group?.icon}
      translate="no"
    >
      {group && <GroupIconMark icon={group.icon} colour={group.colour} />}
      {name}
    </span>
  );
}

const NONE: ReadonlyMap<string, LineGroup> = new Map();

/**
 * The groups the user sees, by id, read once per page when first `wanted` (a line in a group is shown); a failure
 * leaves the badges plain (the names still show).
 */
export function useGroupsById(wanted: boolean): ReadonlyMap<string, LineGroup> {
  const [groups, setGroups] = useState<ReadonlyMap<string, LineGroup>>(NONE);
  const [asked, setAsked] = useState(false);
  useEffect(() => {
    if (wanted && !asked) setAsked(true);
  }, [wanted, asked]);
  useEffect(() => {
    if (!asked) return;
    let live = true;
    api.lineGroups().then(
      (answer) => live && setGroups(new Map(answer.items.map((group) => [group.id, group]))),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [asked]);
  return groups;
}
