import { Router } from '@kinvolk/headlamp-plugin/lib';
import {
  ConfirmDialog,
  NameValueTable,
  SectionBox,
  SimpleTable,
  Tabs,
} from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import type { PodStatus } from '@kubeairunway/shared';
import { conditionsOf } from '@kubeairunway/shared';
import { Box, Button, MenuItem, TextField, Typography } from '@mui/material';
import { useState } from 'react';
import { useHistory, useParams } from 'react-router-dom';
import { BackendError, Status } from '../components/common';
import { useBackend, useResource } from '../hooks';
import type { Backend } from '../lib/backend';
import { age, phaseTone, portForwardCommand, replicasText } from '../lib/format';
import { metricRows } from '../lib/metrics';
import { ROUTE } from '../routes';

/** How often details, pods and metrics refresh. */
const REFRESH_MS = 10_000;

/** One deployment: status, conditions, pods, logs, metrics and how to reach it. */
export function DeploymentDetails() {
  const { namespace, name } = useParams<{ namespace: string; name: string }>();
  const backend = useBackend();
  const history = useHistory();
  const details = useResource(
    () => backend.getDeployment(name, namespace),
    [backend, name, namespace],
    REFRESH_MS
  );
  const [confirm, setConfirm] = useState(false);
  const [deleteError, setDeleteError] = useState<Error | undefined>();
  const d = details.data;

  const remove = async () => {
    setConfirm(false);
    try {
      await backend.deleteDeployment(name, namespace);
      history.push(Router.createRouteURL(ROUTE.deployments.name));
    } catch (e) {
      setDeleteError(e instanceof Error ? e : new Error(String(e)));
    }
  };

  return (
    <SectionBox
      title={name}
      subtitle={namespace}
      backLink
      headerProps={{
        actions: [
          <Button key="delete" color="error" onClick={() => setConfirm(true)}>
            Delete
          </Button>,
        ],
      }}
    >
      {details.error ? (
        <BackendError error={details.error} baseUrl={backend.baseUrl} onRetry={details.refresh} />
      ) : null}
      {deleteError ? <BackendError error={deleteError} baseUrl={backend.baseUrl} /> : null}
      {details.loading ? <Typography>Loading {name}…</Typography> : null}
      {d ? (
        <>
          <NameValueTable
            rows={[
              { name: 'Status', value: <Status tone={phaseTone(d.phase)}>{d.phase}</Status> },
              { name: 'Model', value: d.modelId },
              { name: 'Provider', value: d.provider },
              { name: 'Engine', value: d.engine ?? '-' },
              { name: 'Mode', value: d.mode },
              {
                name: 'Replicas',
                value: (
                  <Scale
                    key={d.replicas.desired}
                    backend={backend}
                    name={name}
                    namespace={namespace}
                    ready={replicasText(d)}
                    desired={d.replicas.desired}
                    onScaled={details.refresh}
                  />
                ),
              },
              { name: 'Service', value: d.frontendService },
              { name: 'Age', value: age(d.createdAt) },
              { name: 'Access', value: <code>{portForwardCommand(d)}</code> },
            ]}
          />
          <Tabs
            ariaLabel="Deployment"
            tabs={[
              { label: `Pods (${d.pods.length})`, component: <Pods pods={d.pods} /> },
              {
                label: 'Logs',
                component: (
                  <Logs backend={backend} name={name} namespace={namespace} pods={d.pods} />
                ),
              },
              {
                label: 'Metrics',
                component: <Metrics backend={backend} name={name} namespace={namespace} />,
              },
              {
                label: 'Conditions',
                component: (
                  <SimpleTable
                    data={conditionsOf(d)}
                    emptyMessage="No conditions reported yet."
                    columns={[
                      { label: 'Type', datum: 'type' },
                      { label: 'Status', datum: 'status' },
                      { label: 'Reason', getter: (c: { reason?: string }) => c.reason ?? '' },
                      { label: 'Message', getter: (c: { message?: string }) => c.message ?? '' },
                    ]}
                  />
                ),
              },
            ]}
          />
        </>
      ) : null}
      <ConfirmDialog
        open={confirm}
        title="Delete deployment"
        description={`Delete ${name} in ${namespace}? Its pods stop and the model is no longer served.`}
        confirmLabel="Delete"
        onConfirm={() => void remove()}
        handleClose={() => setConfirm(false)}
      />
    </SectionBox>
  );
}

/** Ready/desired replicas, and a field to change the desired count. */
function Scale(props: {
  backend: Backend;
  name: string;
  namespace: string;
  ready: string;
  desired: number;
  onScaled: () => void;
}) {
  const [value, setValue] = useState(String(props.desired));
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const replicas = Number(value);
  const valid = /^\d{1,3}$/.test(value) && replicas <= 100;
  const scale = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.backend.scale(props.name, props.namespace, replicas);
      props.onScaled();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box>
      <Box display="flex" alignItems="center" gap={2}>
        <Typography component="span">{props.ready} ready</Typography>
        <TextField
          size="small"
          label="Desired replicas"
          value={value}
          onChange={e => setValue(e.target.value)}
          error={!valid}
          sx={{ width: 160 }}
        />
        <Button
          disabled={!valid || busy || replicas === props.desired}
          onClick={() => void scale()}
        >
          Scale
        </Button>
      </Box>
      {error ? <BackendError error={error} baseUrl={props.backend.baseUrl} /> : null}
    </Box>
  );
}

function Pods({ pods }: { pods: PodStatus[] }) {
  return (
    <SimpleTable
      data={pods}
      emptyMessage="No pods yet."
      columns={[
        { label: 'Name', datum: 'name' },
        {
          label: 'Status',
          getter: (p: PodStatus) => <Status tone={phaseTone(p.phase)}>{p.phase}</Status>,
        },
        { label: 'Ready', getter: (p: PodStatus) => (p.ready ? 'Yes' : 'No') },
        { label: 'Restarts', getter: (p: PodStatus) => String(p.restarts) },
        { label: 'Node', getter: (p: PodStatus) => p.node ?? '-' },
      ]}
    />
  );
}

function Logs({
  backend,
  name,
  namespace,
  pods,
}: {
  backend: Backend;
  name: string;
  namespace: string;
  pods: PodStatus[];
}) {
  const [pod, setPod] = useState<string>(pods[0]?.name ?? '');
  const logs = useResource(
    () => backend.logs(name, namespace, pod || undefined),
    [backend, name, namespace, pod]
  );
  return (
    <Box>
      <Box display="flex" alignItems="center" gap={2} mb={1}>
        <TextField
          select
          size="small"
          label="Pod"
          value={pod}
          onChange={e => setPod(e.target.value)}
          sx={{ minWidth: 280 }}
        >
          {pods.map(p => (
            <MenuItem key={p.name} value={p.name}>
              {p.name}
            </MenuItem>
          ))}
        </TextField>
        <Button onClick={logs.refresh}>Refresh</Button>
      </Box>
      {logs.error ? <BackendError error={logs.error} baseUrl={backend.baseUrl} /> : null}
      {logs.data?.message ? <Typography>{logs.data.message}</Typography> : null}
      <Box
        component="pre"
        aria-label="Log lines"
        sx={{
          maxHeight: 400,
          overflow: 'auto',
          p: 1,
          bgcolor: 'background.default',
          fontSize: 12,
          whiteSpace: 'pre-wrap',
        }}
      >
        {logs.loading ? 'Loading logs…' : logs.data?.logs || 'No log lines.'}
      </Box>
    </Box>
  );
}

function Metrics({
  backend,
  name,
  namespace,
}: {
  backend: Backend;
  name: string;
  namespace: string;
}) {
  const metrics = useResource(
    () => backend.metrics(name, namespace),
    [backend, name, namespace],
    REFRESH_MS
  );
  if (metrics.error)
    return (
      <BackendError error={metrics.error} baseUrl={backend.baseUrl} onRetry={metrics.refresh} />
    );
  const m = metrics.data;
  if (!m) return <Typography>Loading metrics…</Typography>;
  if (!m.available) {
    return (
      <Typography>
        Metrics are not available{m.reason ? ` (${m.reason})` : ''}
        {m.error ? `: ${m.error}` : '.'}
      </Typography>
    );
  }
  return <NameValueTable rows={metricRows(m)} />;
}
