import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Link } from "./router";

export interface NavSection {
  to: string;
  label: string;
  current: boolean;
}

/**
 * The navigation's less used sections behind one button: a disclosure (the button says whether its list is
 * open, the list follows it in the tab order). Escape closes it and gives the focus back to the button; so does
 * leaving it (the focus or a click elsewhere) and opening a section. The button is marked while the page shown
 * is one of its sections.
 */
export function NavMore({ label, sections, path }: { label: string; sections: readonly NavSection[]; path: string }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => setOpen(false), [path]);
  useEffect(() => {
    if (!open) return;
    const away = (event: PointerEvent) => {
      if (!box.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", away);
    return () => document.removeEventListener("pointerdown", away);
  }, [open]);

  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === "Escape" && open) {
      event.preventDefault();
      setOpen(false);
      button.current?.focus();
    }
  };

  if (sections.length === 0) return null;
  return (
    <div
      ref={box}
      className="nav-more"
      onKeyDown={onKey}
      onBlur={(event) => {
        if (!box.current?.contains(event.relatedTarget as Node | null)) setOpen(false);
      }}
    >
      <button
        ref={button}
        type="button"
        className={sections.some((section) => section.current) ? "link current" : "link"}
        aria-expanded={open}
        aria-controls="nav-more"
        onClick={() => setOpen(!open)}
      >
        {label}
      </button>
      <ul id="nav-more" hidden={!open} onClick={() => setOpen(false)}>
        {sections.map((section) => (
          <li key={section.to}>
            <Link to={section.to} aria-current={section.current ? "page" : undefined}>
              {section.label}
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}
