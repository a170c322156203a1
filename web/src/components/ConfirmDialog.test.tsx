import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";

import { ConfirmDialog } from "./ConfirmDialog";

function Harness({ onConfirm }: { onConfirm: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setOpen(true);
        }}
      >
        Open
      </button>
      <ConfirmDialog
        open={open}
        title="Delete it?"
        confirmLabel="Delete"
        danger
        onConfirm={onConfirm}
        onCancel={() => {
          setOpen(false);
        }}
      >
        Gone for good.
      </ConfirmDialog>
    </>
  );
}

describe("ConfirmDialog", () => {
  it("focuses Cancel, cancels on Escape and gives focus back to the opener", async () => {
    const user = userEvent.setup();
    const onConfirm = vi.fn();
    render(<Harness onConfirm={onConfirm} />);
    const opener = screen.getByRole("button", { name: "Open" });
    await user.click(opener);
    const dialog = screen.getByRole("dialog", { name: "Delete it?" });
    expect(dialog).toHaveAccessibleDescription("Gone for good.");
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();
    dialog.dispatchEvent(new Event("cancel", { cancelable: true }));
    expect(await screen.findByRole("button", { name: "Open" })).toHaveFocus();
    expect(dialog).not.toHaveAttribute("open");
    expect(onConfirm).not.toHaveBeenCalled();
  });
});
