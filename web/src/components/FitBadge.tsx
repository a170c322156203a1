import type { ModelPlan } from "@kubeairunway/shared";

import { summarizeFit } from "../lib/fit";
import { Badge, Spinner } from "./ui";

/**
 * A model's GPU fit against the cluster: a badge with a word (never colour alone) and the
 * planner's reason as visible text, not a hover-only tooltip.
 */
export function FitBadge({
  plan,
  loading = false,
  error,
  compact = false,
}: {
  plan: ModelPlan | null | undefined;
  loading?: boolean;
  error?: Error | null;
  compact?: boolean;
}) {
  if (loading) {
    return (
      <span className="inline-flex items-center gap-1 text-xs text-muted">
        <Spinner className="size-3" /> Checking GPU fit…
      </span>
    );
  }
  if (error) {
    return (
      <span className="text-xs text-muted">
        <Badge>Fit unknown</Badge>
        {compact ? null : <span className="ml-1">{error.message}</span>}
      </span>
    );
  }
  const fit = summarizeFit(plan);
  const icon = fit.tone === "ok" ? "✓" : fit.tone === "warn" ? "!" : fit.tone === "bad" ? "✕" : "?";
  return (
    <span className="flex flex-col gap-1">
      <span>
        <Badge tone={fit.tone}>
          <span aria-hidden="true">{icon}</span>
          <span className="sr-only">GPU fit: </span>
          {fit.label}
        </Badge>
      </span>
      {compact ? null : <span className="text-xs text-muted">{fit.detail}</span>}
    </span>
  );
}
