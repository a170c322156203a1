import { Component, type ErrorInfo, type ReactNode } from "react";

/** Catches render errors of a subtree and offers a way out instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error("UI error", error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div role="alert" className="mx-auto mt-16 max-w-lg rounded-lg border border-line bg-surface p-6 text-fg">
        <h1 className="text-xl font-semibold">Something went wrong</h1>
        <p className="mt-2 text-sm break-words text-muted">{error.message}</p>
        <div className="mt-4 flex gap-2">
          <a className="rounded-md bg-primary px-3 py-1.5 text-sm font-medium text-primary-fg" href="/deployments">
            Go to Deployments
          </a>
          <button
            type="button"
            className="rounded-md border border-line px-3 py-1.5 text-sm"
            onClick={() => {
              window.location.reload();
            }}
          >
            Reload the page
          </button>
        </div>
      </div>
    );
  }
}
