import { Router } from '@kinvolk/headlamp-plugin/lib';
import { Link, SectionBox } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import type { Engine, ModelPlan, RuntimeStatus } from '@kubeairunway/shared';
import { Alert, Box, Button, MenuItem, TextField, Typography } from '@mui/material';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useHistory, useLocation } from 'react-router-dom';
import { BackendError, FitLabel } from '../components/common';
import { useBackend, useResource } from '../hooks';
import type { Backend } from '../lib/backend';
import {
  checkDeploy,
  deployRequest,
  type DeployValues,
  enginesFor,
  suggestGpus,
  suggestName,
  suggestProvider,
} from '../lib/deploy';
import { fitOf } from '../lib/format';
import { ROUTE } from '../routes';

/** What the form needs to know about the model. */
interface ModelInfo {
  id: string;
  engines: Engine[];
  minGpus?: number;
  gated: boolean;
  plan?: ModelPlan | null;
}

async function loadModel(backend: Backend, modelId: string, source: string): Promise<ModelInfo> {
  if (source === 'huggingface') {
    const plan = await backend.plan(modelId).catch(() => null);
    const hits = await backend.searchModels(modelId, 10);
    const hit = hits.find(h => h.id === modelId);
    return {
      id: modelId,
      engines: hit?.supportedEngines ?? [],
      gated: hit?.gated ?? false,
      plan: hit?.plan ?? plan,
    };
  }
  const model = (await backend.models()).find(m => m.id === modelId);
  if (!model) throw new Error(`${modelId} is not in the curated catalog.`);
  const plan = model.minGpus > 0 ? await backend.plan(modelId).catch(() => null) : null;
  return {
    id: model.id,
    engines: model.supportedEngines,
    minGpus: model.minGpus,
    gated: model.gated ?? false,
    plan,
  };
}

/** The deploy form for `?modelId=…&source=catalog|huggingface`. */
export function Deploy() {
  const backend = useBackend();
  const params = new URLSearchParams(useLocation().search);
  const modelId = params.get('modelId') ?? '';
  const source = params.get('source') ?? 'catalog';
  const model = useResource(() => loadModel(backend, modelId, source), [backend, modelId, source]);
  const runtimes = useResource(() => backend.runtimes(), [backend]);

  if (!modelId) {
    return (
      <SectionBox title="Deploy a model">
        <Typography>
          No model chosen. Pick one under <Link routeName={ROUTE.models.name}>Models</Link>.
        </Typography>
      </SectionBox>
    );
  }
  const error = model.error ?? runtimes.error;
  return (
    <SectionBox title={`Deploy ${modelId}`} backLink>
      {error ? <BackendError error={error} baseUrl={backend.baseUrl} /> : null}
      {model.data && runtimes.data ? (
        <DeployForm backend={backend} model={model.data} runtimes={runtimes.data} />
      ) : error ? null : (
        <Typography>Loading…</Typography>
      )}
    </SectionBox>
  );
}

function DeployForm({
  backend,
  model,
  runtimes,
}: {
  backend: Backend;
  model: ModelInfo;
  runtimes: RuntimeStatus[];
}) {
  const history = useHistory();
  const initial = useMemo<DeployValues>(() => {
    const provider = suggestProvider(runtimes, model.engines);
    return {
      name: suggestName(model.id),
      namespace: 'default',
      modelId: model.id,
      provider,
      engine: enginesFor(provider, model.engines)[0] ?? 'vllm',
      replicas: 1,
      gpus: suggestGpus(model.plan, model.minGpus),
      contextLength: '',
      gated: model.gated,
    };
  }, [model, runtimes]);
  const [v, setV] = useState<DeployValues>(initial);
  const [submitting, setSubmitting] = useState(false);
  const [failure, setFailure] = useState<Error | undefined>();
  const [touched, setTouched] = useState(false);
  useEffect(() => setV(initial), [initial]);

  const engines = enginesFor(v.provider, model.engines);
  const runtime = runtimes.find(r => r.id === v.provider);
  const errors = checkDeploy(v);
  const invalid = Object.keys(errors).length > 0;
  const set = <K extends keyof DeployValues>(key: K, value: DeployValues[K]) =>
    setV(old => ({ ...old, [key]: value }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (invalid) return;
    setSubmitting(true);
    setFailure(undefined);
    try {
      const created = await backend.createDeployment(deployRequest(v));
      history.push(
        Router.createRouteURL(ROUTE.deployment.name, {
          namespace: created.namespace,
          name: created.name,
        })
      );
    } catch (err) {
      setFailure(err instanceof Error ? err : new Error(String(err)));
      setSubmitting(false);
    }
  };

  const show = (field: keyof typeof errors) => (touched ? errors[field] : undefined);
  return (
    <Box
      component="form"
      onSubmit={submit}
      noValidate
      display="flex"
      flexDirection="column"
      gap={2}
      maxWidth={560}
    >
      {model.plan !== undefined ? <FitLabel fit={fitOf(model.plan)} /> : null}
      <TextField
        select
        label="Runtime"
        value={v.provider}
        onChange={e => {
          const provider = e.target.value;
          setV(old => ({
            ...old,
            provider,
            engine: enginesFor(provider, model.engines)[0] ?? old.engine,
          }));
        }}
        helperText={
          runtime && !runtime.healthy
            ? `${runtime.name} is not healthy: ${runtime.message}`
            : undefined
        }
      >
        {runtimes.map(r => (
          <MenuItem key={r.id} value={r.id} disabled={enginesFor(r.id, model.engines).length === 0}>
            {r.name}
            {r.healthy ? '' : ' (not healthy)'}
          </MenuItem>
        ))}
      </TextField>
      <TextField
        select
        label="Engine"
        value={v.engine}
        onChange={e => set('engine', e.target.value as Engine)}
      >
        {engines.map(e => (
          <MenuItem key={e} value={e}>
            {e}
          </MenuItem>
        ))}
      </TextField>
      <TextField
        label="Name"
        value={v.name}
        onChange={e => set('name', e.target.value)}
        error={!!show('name')}
        helperText={show('name')}
      />
      <TextField
        label="Namespace"
        value={v.namespace}
        onChange={e => set('namespace', e.target.value)}
        error={!!show('namespace')}
        helperText={show('namespace')}
      />
      <TextField
        label="Replicas"
        type="number"
        value={v.replicas}
        onChange={e => set('replicas', Number(e.target.value))}
        error={!!show('replicas')}
        helperText={show('replicas')}
      />
      <TextField
        label="GPUs per replica"
        type="number"
        value={v.gpus}
        onChange={e => set('gpus', Number(e.target.value))}
        error={!!show('gpus')}
        helperText={show('gpus') ?? `Suggested: ${suggestGpus(model.plan, model.minGpus)}`}
      />
      <TextField
        label="Context length (tokens, optional)"
        value={v.contextLength}
        onChange={e => set('contextLength', e.target.value)}
        error={!!show('contextLength')}
        helperText={show('contextLength')}
      />
      {v.gated ? (
        <Alert severity="info">
          This model is gated: the deployment reads the HuggingFace token from the Secret
          hf-token-secret.
        </Alert>
      ) : null}
      {failure ? <BackendError error={failure} baseUrl={backend.baseUrl} /> : null}
      <Box>
        <Button type="submit" variant="contained" disabled={submitting}>
          {submitting ? 'Deploying…' : 'Deploy'}
        </Button>
      </Box>
    </Box>
  );
}
