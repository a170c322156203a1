import { Link, SectionBox, SimpleTable, Tabs } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import type { HfModelSearchResult, Model } from '@kubeairunway/shared';
import { Box, TextField, Typography } from '@mui/material';
import { useEffect, useState } from 'react';
import { BackendError, FitLabel } from '../components/common';
import { useBackend, useResource } from '../hooks';
import { count, fitOf, parameters } from '../lib/format';
import { deploySearch, ROUTE } from '../routes';

/** Debounce of the HuggingFace search box. */
const SEARCH_DELAY_MS = 400;

/** The curated catalog and HuggingFace search, each model with its GPU fit on this cluster. */
export function Models() {
  return (
    <SectionBox title="Models">
      <Tabs
        ariaLabel="Model sources"
        tabs={[
          { label: 'Curated models', component: <Curated /> },
          { label: 'HuggingFace', component: <HuggingFace /> },
        ]}
      />
    </SectionBox>
  );
}

/** A catalog model's fit, planned by the backend for the cluster's GPU types. */
function CatalogFit({ model }: { model: Model }) {
  const backend = useBackend();
  const plan = useResource(() => backend.plan(model.id), [backend, model.id]);
  if (model.minGpus === 0) return <Typography variant="body2">Runs on CPU</Typography>;
  if (plan.loading) return <Typography variant="body2">Checking GPU fit…</Typography>;
  if (plan.error) return <Typography variant="body2">Fit unknown: {plan.error.message}</Typography>;
  return <FitLabel fit={fitOf(plan.data)} compact />;
}

function DeployLink({
  model,
  source,
}: {
  model: { id: string; name: string };
  source: 'catalog' | 'huggingface';
}) {
  return (
    <Link
      routeName={ROUTE.deploy.name}
      search={deploySearch(model.id, source)}
      aria-label={`Deploy ${model.name}`}
    >
      Deploy
    </Link>
  );
}

function Curated() {
  const backend = useBackend();
  const models = useResource(() => backend.models(), [backend]);
  return (
    <Box>
      {models.error ? (
        <BackendError error={models.error} baseUrl={backend.baseUrl} onRetry={models.refresh} />
      ) : null}
      <SimpleTable
        data={models.data ?? null}
        emptyMessage="The catalog is empty."
        columns={[
          { label: 'Model', getter: (m: Model) => m.name },
          { label: 'Id', getter: (m: Model) => m.id },
          { label: 'Size', getter: (m: Model) => m.size },
          { label: 'Engines', getter: (m: Model) => m.supportedEngines.join(', ') },
          { label: 'GPU fit', getter: (m: Model) => <CatalogFit model={m} /> },
          { label: 'Deploy', getter: (m: Model) => <DeployLink model={m} source="catalog" /> },
        ]}
      />
    </Box>
  );
}

function HuggingFace() {
  const backend = useBackend();
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setQuery(text.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(t);
  }, [text]);
  const results = useResource(
    () => (query.length >= 2 ? backend.searchModels(query) : Promise.resolve([])),
    [backend, query]
  );
  return (
    <Box>
      <TextField
        type="search"
        label="Search HuggingFace"
        value={text}
        onChange={e => setText(e.target.value)}
        size="small"
        sx={{ my: 1, minWidth: 360 }}
        helperText={query.length < 2 ? 'Type at least 2 characters.' : undefined}
      />
      {results.error ? (
        <BackendError error={results.error} baseUrl={backend.baseUrl} onRetry={results.refresh} />
      ) : null}
      {query.length >= 2 ? (
        <SimpleTable
          data={results.loading ? null : results.data ?? []}
          emptyMessage={`No compatible model matches “${query}”.`}
          columns={[
            { label: 'Model', getter: (m: HfModelSearchResult) => m.id },
            {
              label: 'Parameters',
              getter: (m: HfModelSearchResult) => parameters(m.parameterCount),
            },
            { label: 'Downloads', getter: (m: HfModelSearchResult) => count(m.downloads) },
            { label: 'Engines', getter: (m: HfModelSearchResult) => m.supportedEngines.join(', ') },
            {
              label: 'GPU fit',
              getter: (m: HfModelSearchResult) =>
                m.supportedEngines.length === 1 && m.supportedEngines[0] === 'llamacpp' ? (
                  <Typography variant="body2">Runs on CPU</Typography>
                ) : (
                  <FitLabel fit={fitOf(m.plan)} compact />
                ),
            },
            {
              label: 'Deploy',
              getter: (m: HfModelSearchResult) =>
                m.compatible ? (
                  <DeployLink model={m} source="huggingface" />
                ) : (
                  <Typography variant="body2">
                    {m.incompatibilityReason ?? 'Not supported'}
                  </Typography>
                ),
            },
          ]}
        />
      ) : null}
    </Box>
  );
}
