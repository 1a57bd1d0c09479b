import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { NavMore, type NavSection } from "./NavMore";
import { Router } from "./router";

const SECTIONS: NavSection[] = [
  { to: "/forms", label: "Forms", current: false },
  { to: "/limits", label: "Spending limits", current: false },
];

afterEach(cleanup);

function show(sections = SECTIONS, path = "/") {
  return render(
    <Router>
      <a href="/elsewhere">Elsewhere</a>
      <nav aria-label="Main">
        <NavMore label="More" sections={sections} path={path} />
      </nav>
    </Router>,
  );
}

describe("the navigation's More", () => {
  it("is a disclosure: the button says whether its list is shown, and the list is the button's", () => {
    show();
    const more = screen.getByRole("button", { name: "More" });
    expect(more.getAttribute("aria-expanded")).toBe("false");
    expect(more.getAttribute("aria-controls")).toBe("nav-more");
    expect(screen.queryByRole("link", { name: "Forms" })).toBeNull(); // hidden: out of the page and of Tab
    fireEvent.click(more);
    expect(more.getAttribute("aria-expanded")).toBe("true");
    expect(screen.getByRole("link", { name: "Forms" }).closest("#nav-more")).toBeTruthy();
    fireEvent.click(more);
    expect(more.getAttribute("aria-expanded")).toBe("false");
  });

  it("closes on Escape with the focus back on the button, and when the focus or a click goes elsewhere", () => {
    show();
    const more = screen.getByRole("button", { name: "More" });
    fireEvent.click(more);
    const forms = screen.getByRole("link", { name: "Forms" });
    forms.focus();
    fireEvent.keyDown(forms, { key: "Escape" });
    expect(more.getAttribute("aria-expanded")).toBe("false");
    expect(document.activeElement).toBe(more);

    fireEvent.click(more);
    fireEvent.blur(more, { relatedTarget: screen.getByRole("link", { name: "Spending limits" }) });
    expect(more.getAttribute("aria-expanded")).toBe("true"); // still inside
    fireEvent.blur(more, { relatedTarget: screen.getByRole("link", { name: "Elsewhere" }) });
    expect(more.getAttribute("aria-expanded")).toBe("false");

    fireEvent.click(more);
    fireEvent.pointerDown(screen.getByRole("link", { name: "Elsewhere" }));
    expect(more.getAttribute("aria-expanded")).toBe("false");
  });

  it("closes when a section is opened, and is marked while the page is one of its sections", () => {
    const { rerender } = show();
    const more = screen.getByRole("button", { name: "More" });
    expect(more.className).not.toContain("current");
    fireEvent.click(more);
    fireEvent.click(screen.getByRole("link", { name: "Spending limits" }));
    expect(window.location.pathname).toBe("/limits");
    expect(more.getAttribute("aria-expanded")).toBe("false");
    rerender(
      <Router>
        <nav aria-label="Main">
          <NavMore label="More" sections={[SECTIONS[0]!, { ...SECTIONS[1]!, current: true }]} path="/limits" />
        </nav>
      </Router>,
    );
    const marked = screen.getByRole("button", { name: "More" });
    expect(marked.className).toContain("current");
    fireEvent.click(marked);
    expect(screen.getByRole("link", { name: "Spending limits" }).getAttribute("aria-current")).toBe("page");
  });

  it("is left out when no section is behind it", () => {
    show([]);
    expect(screen.queryByRole("button", { name: "More" })).toBeNull();
  });
});
