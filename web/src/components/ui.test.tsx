import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { Button } from "./ui";

/** The text-colour utilities among `el`'s classes (sizes such as `text-sm` are not colours). */
function textColours(el: HTMLElement): string[] {
  return [...el.classList].filter((c) => /^text-/.test(c) && !/^text-(xs|sm|base|lg|\d?xl)$/.test(c));
}

describe("Button", () => {
  // Two colour utilities on one element resolve by stylesheet order, not class order, so a
  // variant must carry exactly one and callers must not add another.
  it.each(["primary", "secondary", "danger", "ghost", "danger-ghost"] as const)("%s sets exactly one text colour", (variant) => {
    render(<Button variant={variant}>Go</Button>);
    expect(textColours(screen.getByRole("button", { name: "Go" }))).toHaveLength(1);
  });

  it("danger-ghost is red text on no background", () => {
    render(<Button variant="danger-ghost">Delete</Button>);
    const button = screen.getByRole("button", { name: "Delete" });
    expect(textColours(button)).toEqual(["text-bad"]);
    expect([...button.classList].filter((c) => c.startsWith("bg-"))).toEqual([]);
  });
});
