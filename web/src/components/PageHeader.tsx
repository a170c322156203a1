import { useEffect, type ReactNode } from "react";

/** Sets the document title for the current page. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · KubeAIRunway` : "KubeAIRunway";
  }, [title]);
}

/**
 * A page's heading. The `h1` can take focus, so the layout moves focus to it after each
 * navigation (screen readers then read the new page's name).
 */
export function PageHeader({
  title,
  subtitle,
  actions,
  documentTitle,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  documentTitle?: string;
}) {
  useDocumentTitle(documentTitle ?? (typeof title === "string" ? title : ""));
  return (
    <div className="mb-4 flex flex-wrap items-start justify-between gap-3">
      <div className="min-w-0">
        <h1 tabIndex={-1} className="truncate text-2xl font-semibold outline-none">
          {title}
        </h1>
        {subtitle ? <div className="mt-1 text-sm text-muted">{subtitle}</div> : null}
      </div>
      {actions ? <div className="flex flex-wrap items-center gap-2">{actions}</div> : null}
    </div>
  );
}
