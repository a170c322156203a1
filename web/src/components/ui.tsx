import type { ComponentPropsWithRef, ReactNode } from "react";

/** Joins class names, skipping falsy ones. */
export function cx(...parts: (string | false | null | undefined)[]): string {
  return parts.filter(Boolean).join(" ");
}

type Variant = "primary" | "secondary" | "danger" | "ghost" | "danger-ghost";

/**
 * Each variant sets its own text colour. A `className` cannot recolour a variant: Tailwind
 * orders utilities in the stylesheet, not by their order in `class`, so `text-fg text-bad`
 * shows whichever comes later in the CSS. A colour a button needs is a variant here.
 */
const VARIANTS: Record<Variant, string> = {
  primary: "bg-primary text-primary-fg hover:opacity-90",
  secondary: "border border-line bg-surface text-fg hover:bg-surface-2",
  danger: "bg-bad text-bad-fg hover:opacity-90",
  ghost: "text-fg hover:bg-surface-2",
  // A destructive action that should not shout (one per row of a list).
  "danger-ghost": "text-bad hover:bg-bad-soft",
};

/** A button; `loading` disables it and shows a spinner with `loadingText`. */
export function Button({
  variant = "secondary",
  loading = false,
  loadingText,
  className,
  children,
  disabled,
  type = "button",
  ...rest
}: ComponentPropsWithRef<"button"> & { variant?: Variant; loading?: boolean; loadingText?: string }) {
  return (
    <button
      type={type}
      className={cx(
        "inline-flex items-center justify-center gap-2 rounded-md px-3 py-1.5 text-sm font-medium whitespace-nowrap",
        "disabled:cursor-not-allowed disabled:opacity-50",
        VARIANTS[variant],
        className,
      )}
      disabled={disabled === true || loading}
      aria-busy={loading || undefined}
      {...rest}
    >
      {loading ? <Spinner /> : null}
      {loading && loadingText ? loadingText : children}
    </button>
  );
}

/** A small spinning circle (decorative; pair it with text). */
export function Spinner({ className }: { className?: string }) {
  return (
    <span
      aria-hidden="true"
      className={cx("inline-block size-4 animate-spin rounded-full border-2 border-current border-t-transparent", className)}
    />
  );
}

/** A centred spinner with a visible label. */
export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div role="status" className="flex items-center justify-center gap-2 p-8 text-muted">
      <Spinner />
      <span>{label}</span>
    </div>
  );
}

type Tone = "neutral" | "ok" | "warn" | "bad" | "info";

const TONES: Record<Tone, string> = {
  neutral: "bg-surface-2 text-fg border-line",
  ok: "bg-ok-soft text-ok border-ok/30",
  warn: "bg-warn-soft text-warn border-warn/30",
  bad: "bg-bad-soft text-bad border-bad/30",
  info: "bg-info-soft text-info border-info/30",
};

/** The header row of a plain data table: one column header per label (`compact`: tighter rows). */
export function TableHead({ columns, compact = false }: { columns: readonly string[]; compact?: boolean }) {
  const rowPadding = compact ? "py-1" : "py-2";
  const gap = compact ? "pr-3" : "pr-4";
  return (
    <thead className="text-muted">
      <tr>
        {columns.map((label, i) => (
          <th key={label} scope="col" className={cx(rowPadding, i < columns.length - 1 && gap, "font-medium")}>
            {label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A small label; colour is never the only signal, so it always carries text. */
export function Badge({ tone = "neutral", children, className }: { tone?: Tone; children: ReactNode; className?: string }) {
  return (
    <span
      className={cx(
        "inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap",
        TONES[tone],
        className,
      )}
    >
      {children}
    </span>
  );
}

/** The tone of a deployment phase. */
export function phaseTone(phase: string): Tone {
  switch (phase) {
    case "Running":
      return "ok";
    case "Pending":
    case "Deploying":
      return "warn";
    case "Failed":
      return "bad";
    default:
      return "neutral";
  }
}

/** A deployment's phase as a badge with a shape cue (●, ◐, ✕). */
export function PhaseBadge({ phase }: { phase: string }) {
  const tone = phaseTone(phase);
  const icon = tone === "ok" ? "●" : tone === "warn" ? "◐" : tone === "bad" ? "✕" : "○";
  return (
    <Badge tone={tone}>
      <span aria-hidden="true">{icon}</span>
      {phase}
    </Badge>
  );
}

/** A bordered panel with an optional heading. */
export function Card({
  title,
  actions,
  children,
  className,
  headingLevel = 2,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  headingLevel?: 2 | 3;
}) {
  const H = headingLevel === 2 ? "h2" : "h3";
  return (
    <section className={cx("rounded-lg border border-line bg-surface p-4 shadow-sm", className)}>
      {title !== undefined || actions !== undefined ? (
        <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
          {title !== undefined ? <H className="text-base font-semibold">{title}</H> : <span />}
          {actions}
        </div>
      ) : null}
      {children}
    </section>
  );
}

/** An error for people: a title and the server's message. */
export function ErrorMessage({ title, error, children }: { title: string; error?: unknown; children?: ReactNode }) {
  const message = error instanceof Error ? error.message : undefined;
  return (
    <div role="alert" className="rounded-md border border-bad/40 bg-bad-soft p-3 text-sm text-fg">
      <p className="font-semibold text-bad">{title}</p>
      {message ? <p className="mt-1 break-words">{message}</p> : null}
      {children}
    </div>
  );
}

/** A friendly empty state. */
export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed border-line p-10 text-center">
      <p className="font-semibold">{title}</p>
      {children ? <div className="text-sm text-muted">{children}</div> : null}
    </div>
  );
}

/** Text only screen readers read. */
export function VisuallyHidden({ children }: { children: ReactNode }) {
  return <span className="sr-only">{children}</span>;
}
