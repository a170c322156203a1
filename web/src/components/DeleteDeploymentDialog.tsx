import { useDeleteDeployment } from "../api/hooks";
import { actionFailure } from "../lib/failure";
import { ConfirmDialog } from "./ConfirmDialog";
import { useToast } from "./Toasts";

/** A deployment by its identity. */
export interface DeploymentRef {
  namespace: string;
  name: string;
}

/**
 * Asks before deleting `target` (open while it is set), deletes it, and reports the outcome as a
 * toast; `onClose` runs when the dialog closes either way, `onDeleted` after a delete succeeded.
 */
export function DeleteDeploymentDialog({
  target,
  onClose,
  onDeleted,
}: {
  target: DeploymentRef | null;
  onClose: () => void;
  onDeleted?: () => void;
}) {
  const del = useDeleteDeployment();
  const toast = useToast();
  return (
    <ConfirmDialog
      open={target !== null}
      title="Delete deployment?"
      confirmLabel="Delete"
      busyLabel="Deleting…"
      danger
      busy={del.isPending}
      onCancel={onClose}
      onConfirm={() => {
        if (!target) return;
        const { name, namespace } = target;
        del.mutate(
          { name, namespace },
          {
            onSuccess: () => {
              onClose();
              toast.show("success", "Deployment deleted", `${namespace}/${name} is being removed.`);
              onDeleted?.();
            },
            onError: (error) => {
              onClose();
              const failure = actionFailure("delete", name, namespace, error);
              toast.show("error", failure.title, failure.message);
            },
          },
        );
      }}
    >
      {target ? (
        <p>
          <strong className="text-fg">{target.name}</strong> in namespace{" "}
          <strong className="text-fg">{target.namespace}</strong> and everything it runs will be removed. This cannot be
          undone.
        </p>
      ) : null}
    </ConfirmDialog>
  );
}
