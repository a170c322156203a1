import { useState } from "react";

import { useToast } from "./Toasts";
import { Button } from "./ui";

/** Copies `text` to the clipboard; the label says what is copied. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const toast = useToast();
  const [copied, setCopied] = useState(false);
  return (
    <Button
      aria-label={`Copy ${label}`}
      onClick={() => {
        navigator.clipboard.writeText(text).then(
          () => {
            setCopied(true);
            toast.show("success", "Copied to the clipboard", label);
            setTimeout(() => {
              setCopied(false);
            }, 2000);
          },
          () => {
            toast.show("error", "Could not copy", "The browser refused access to the clipboard; select the text instead.");
          },
        );
      }}
    >
      {copied ? "Copied" : "Copy"}
    </Button>
  );
}
