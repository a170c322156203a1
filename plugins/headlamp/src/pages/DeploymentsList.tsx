import {
  ConfirmDialog,
  Link,
  SectionBox,
  SimpleTable,
} from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import type { DeploymentStatus } from '@kubeairunway/shared';
import { Box, Button } from '@mui/material';
import { useEffect, useState } from 'react';
import { BackendError, Status } from '../components/common';
import { useBackend } from '../hooks';
import { applyDeploymentEvent } from '../lib/backend';
import { age, phaseTone, replicasText } from '../lib/format';
import { ROUTE } from '../routes';

/** Seconds before a dropped live stream is opened again. */
const RECONNECT_MS = 5000;

/**
 * The deployments of every namespace the user may list, kept current by the backend's live
 * event stream (`GET /api/deployments/events`); while the stream is down the last list stays
 * and a plain list call refreshes it.
 */
export function DeploymentsList() {
  const backend = useBackend();
  const [list, setList] = useState<DeploymentStatus[] | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [toDelete, setToDelete] = useState<DeploymentStatus | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    backend
      .followDeployments(
        undefined,
        event => {
          setError(undefined);
          setList(current => applyDeploymentEvent(current ?? [], event));
        },
        abort.signal
      )
      .catch(async (e: unknown) => {
        if (abort.signal.aborted) return;
        setError(e instanceof Error ? e : new Error(String(e)));
        try {
          setList(await backend.listDeployments());
        } catch {
          // The error above already says what is wrong.
        }
      })
      .finally(() => {
        if (!abort.signal.aborted) timer = setTimeout(() => setAttempt(a => a + 1), RECONNECT_MS);
      });
    return () => {
      abort.abort();
      if (timer) clearTimeout(timer);
    };
  }, [backend, attempt]);

  const remove = async (d: DeploymentStatus) => {
    setToDelete(null);
    try {
      await backend.deleteDeployment(d.name, d.namespace);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };

  return (
    <SectionBox
      title="Deployments"
      headerProps={{
        actions: [
          <Link key="deploy" routeName={ROUTE.models.name}>
            Deploy a model
          </Link>,
        ],
      }}
    >
      {error ? (
        <BackendError
          error={error}
          baseUrl={backend.baseUrl}
          onRetry={() => setAttempt(a => a + 1)}
        />
      ) : null}
      <SimpleTable
        data={list ?? null}
        emptyMessage="No deployments yet: pick a model under Models to deploy one."
        rowsPerPage={[15, 25, 50]}
        columns={[
          {
            label: 'Name',
            getter: (d: DeploymentStatus) => (
              <Link
                routeName={ROUTE.deployment.name}
                params={{ namespace: d.namespace, name: d.name }}
              >
                {d.name}
              </Link>
            ),
            sort: (a: DeploymentStatus, b: DeploymentStatus) => a.name.localeCompare(b.name),
          },
          { label: 'Namespace', getter: (d: DeploymentStatus) => d.namespace },
          { label: 'Model', getter: (d: DeploymentStatus) => d.modelId },
          { label: 'Provider', getter: (d: DeploymentStatus) => d.provider },
          { label: 'Engine', getter: (d: DeploymentStatus) => d.engine ?? '-' },
          {
            label: 'Status',
            getter: (d: DeploymentStatus) => <Status tone={phaseTone(d.phase)}>{d.phase}</Status>,
          },
          { label: 'Replicas', getter: (d: DeploymentStatus) => replicasText(d) },
          { label: 'Age', getter: (d: DeploymentStatus) => age(d.createdAt) },
          {
            label: 'Actions',
            getter: (d: DeploymentStatus) => (
              <Box>
                <Button
                  size="small"
                  color="error"
                  onClick={() => setToDelete(d)}
                  aria-label={`Delete ${d.name}`}
                >
                  Delete
                </Button>
              </Box>
            ),
          },
        ]}
      />
      <ConfirmDialog
        open={toDelete !== null}
        title="Delete deployment"
        description={
          toDelete
            ? `Delete ${toDelete.name} in ${toDelete.namespace}? Its pods stop and the model is no longer served.`
            : ''
        }
        confirmLabel="Delete"
        onConfirm={() => {
          if (toDelete) void remove(toDelete);
        }}
        handleClose={() => setToDelete(null)}
      />
    </SectionBox>
  );
}
