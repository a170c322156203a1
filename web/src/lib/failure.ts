import { isApiError } from "@kubeairunway/shared";

/** What a toast says about a failed action. */
export interface Failure {
  title: string;
  message: string;
}

/** Actions on a deployment whose refusal the user should understand. */
export type DeploymentAction = "create" | "delete" | "scale";

/**
 * The toast for a failed `action` on deployment `name` in `namespace`. A 403 comes from the
 * user's own Kubernetes permissions (the server acts as the signed-in user), so it says that in
 * plain words first and keeps the API server's message after it; anything else keeps `title`.
 */
export function actionFailure(action: DeploymentAction, name: string, namespace: string, error: Error, title?: string): Failure {
  if (isApiError(error) && error.status === 403) {
    return {
      title: `Not allowed to ${action} ${name}`,
      message: `Your Kubernetes user has no permission to ${action} deployments in namespace ${namespace}; ask a cluster administrator for access. ${error.message}`,
    };
  }
  return { title: title ?? `Could not ${action} ${name}`, message: error.message };
}
