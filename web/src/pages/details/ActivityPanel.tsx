import type { DeploymentStatus } from "@kubeairunway/shared";
import { useState } from "react";

import { useActivity } from "../../api/activity";
import { ActivityTable } from "../../components/ActivityTable";
import { Card, ErrorMessage, Loading } from "../../components/ui";

/** Entries per page. */
const PAGE_SIZE = 10;

/** The changes made to this deployment through KubeAIRunway: who scaled, created or deleted it. */
export function ActivityPanel({ d }: { d: DeploymentStatus }) {
  const [offset, setOffset] = useState(0);
  const activity = useActivity({
    namespace: d.namespace,
    deployment: d.name,
    user: "",
    action: "",
    limit: PAGE_SIZE,
    offset,
  });
  return (
    <Card title="Activity">
      {activity.data ? (
        <ActivityTable page={activity.data} onOffset={setOffset} showObject={false} />
      ) : activity.error ? (
        <ErrorMessage title="Could not load the activity" error={activity.error} />
      ) : (
        <Loading label="Loading activity…" />
      )}
    </Card>
  );
}
