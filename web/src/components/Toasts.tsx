import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

import { cx } from "./ui";

/** Kinds of toast. Errors stay longer and are announced assertively. */
export type ToastKind = "success" | "error" | "info";

interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  message?: string;
}

interface ToastApi {
  /** Shows a toast; errors stay 10 s, others 5 s (hover or focus does not dismiss them). */
  show: (kind: ToastKind, title: string, message?: string) => void;
}

const ToastContext = createContext<ToastApi | null>(null);

const MAX_VISIBLE = 4;

/** Provides {@link useToast} and renders the toasts in an aria-live region. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((ts) => ts.filter((t) => t.id !== id));
  }, []);

  const show = useCallback(
    (kind: ToastKind, title: string, message?: string) => {
      const id = nextId.current++;
      setToasts((ts) => [...ts, { id, kind, title, ...(message ? { message } : {}) }].slice(-MAX_VISIBLE));
      setTimeout(
        () => {
          dismiss(id);
        },
        kind === "error" ? 10_000 : 5_000,
      );
    },
    [dismiss],
  );

  const api = useMemo(() => ({ show }), [show]);

  return (
    <ToastContext value={api}>
      {children}
      <div
        aria-label="Notifications"
        role="region"
        className="pointer-events-none fixed right-4 bottom-4 z-50 flex w-[min(26rem,calc(100vw-2rem))] flex-col gap-2"
      >
        {/* Polite for news, assertive for errors: two live regions that always exist. */}
        <div aria-live="polite" aria-atomic="false" className="flex flex-col gap-2">
          {toasts
            .filter((t) => t.kind !== "error")
            .map((t) => (
              <ToastView key={t.id} toast={t} onClose={dismiss} />
            ))}
        </div>
        <div aria-live="assertive" aria-atomic="false" className="flex flex-col gap-2">
          {toasts
            .filter((t) => t.kind === "error")
            .map((t) => (
              <ToastView key={t.id} toast={t} onClose={dismiss} />
            ))}
        </div>
      </div>
    </ToastContext>
  );
}

function ToastView({ toast, onClose }: { toast: Toast; onClose: (id: number) => void }) {
  const tone =
    toast.kind === "success" ? "border-ok/50" : toast.kind === "error" ? "border-bad/60" : "border-info/50";
  const icon = toast.kind === "success" ? "✓" : toast.kind === "error" ? "!" : "i";
  return (
    <div className={cx("pointer-events-auto flex gap-3 rounded-lg border-l-4 bg-surface p-3 shadow-lg ring-1 ring-line", tone)}>
      <span aria-hidden="true" className="font-bold">
        {icon}
      </span>
      <div className="min-w-0 flex-1 text-sm">
        <p className="font-semibold">{toast.title}</p>
        {toast.message ? <p className="mt-0.5 break-words text-muted">{toast.message}</p> : null}
      </div>
      <button
        type="button"
        className="self-start rounded px-1 text-muted hover:text-fg"
        aria-label={`Dismiss notification: ${toast.title}`}
        onClick={() => {
          onClose(toast.id);
        }}
      >
        ✕
      </button>
    </div>
  );
}

/** The toast API (inside {@link ToastProvider}). */
export function useToast(): ToastApi {
  const ctx = useContext(ToastContext);
  if (!ctx) throw new Error("useToast outside ToastProvider");
  return ctx;
}
