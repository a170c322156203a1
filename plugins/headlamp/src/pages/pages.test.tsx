/**
 * The plugin's pages rendered inside Headlamp's store, theme and router, talking to the real
 * backend with authentication on (see crates/cli/tests/headlamp.rs). The backend URL comes from
 * the plugin's settings in Headlamp's ConfigStore, and the token from Headlamp's `getToken`
 * (a `registerGetTokenFunction` override), exactly as in Headlamp.
 */
import { registerGetTokenFunction } from '@kinvolk/headlamp-plugin/lib';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { Route } from 'react-router-dom';
import { configStore } from '../config';
import { createBackend } from '../lib/backend';
import { PluginSettings } from '../settings';
import { env } from '../test/env';
import { renderInHeadlamp } from '../test/render';
import { Deploy } from './Deploy';
import { DeploymentDetails } from './DeploymentDetails';
import { DeploymentsList } from './DeploymentsList';
import { Models } from './Models';
import { Runtimes } from './Runtimes';

/** The cluster Headlamp shows (its URLs are `/c/<cluster>/…`). */
const CLUSTER = 'main';
/** Waits for the cluster (watch caches, the controller) and the debounced search. */
const SLOW = { timeout: 20_000 };

let tokenFor: (cluster: string) => string | undefined = () => undefined;
/** Clusters Headlamp was asked a token for. */
const asked: string[] = [];

beforeAll(() => {
  registerGetTokenFunction(cluster => {
    asked.push(cluster);
    return tokenFor(cluster);
  });
});

beforeEach(() => {
  configStore.set({ backendUrl: env.authUrl });
  tokenFor = cluster => (cluster === CLUSTER ? env.adminToken : undefined);
  window.history.replaceState(null, '', `/c/${CLUSTER}/kubeairunway/deployments`);
});

/** The table row holding `text`. */
function rowOf(text: string): HTMLElement {
  const row = screen.getByText(text).closest('tr');
  if (!row) throw new Error(`${text} is not in a table row`);
  return row;
}

test("the list shows the cluster's running deployment, asking Headlamp for the user's token", async () => {
  renderInHeadlamp(<DeploymentsList />);
  await screen.findByText(env.deployment, undefined, SLOW);
  const row = rowOf(env.deployment);
  expect(within(row).getByText(env.namespace)).toBeTruthy();
  expect(within(row).getByText(env.model)).toBeTruthy();
  expect(within(row).getByText('Running')).toBeTruthy();
  expect(within(row).getByText('1/1')).toBeTruthy();
  expect(asked).toContain(CLUSTER);
}, 30_000);

test('without a token the backend says 401, and the page says how to fix it', async () => {
  tokenFor = () => undefined;
  renderInHeadlamp(<DeploymentsList />);
  await screen.findByText(/needs a Kubernetes token/, undefined, SLOW);
  expect(screen.queryByText(env.deployment)).toBeNull();
}, 30_000);

test('a token saved in the settings is used when Headlamp has none', async () => {
  tokenFor = () => undefined;
  configStore.set({ backendUrl: env.authUrl, token: env.adminToken });
  renderInHeadlamp(<DeploymentsList />);
  await screen.findByText(env.deployment, undefined, SLOW);
}, 30_000);

test('details: status, pods, logs and metrics of the running deployment', async () => {
  const path = `/c/${CLUSTER}/kubeairunway/deployments/${env.namespace}/${env.deployment}`;
  window.history.replaceState(null, '', path);
  renderInHeadlamp(
    <Route path="/c/:cluster/kubeairunway/deployments/:namespace/:name">
      <DeploymentDetails />
    </Route>,
    path
  );
  await screen.findByText(env.model, undefined, SLOW);
  expect(screen.getByText('1/1 ready')).toBeTruthy();
  expect((screen.getByLabelText('Desired replicas') as HTMLInputElement).value).toBe('1');
  expect(screen.getByText(/kubectl port-forward -n /)).toBeTruthy();

  const pods = await createBackend({ baseUrl: env.url, getToken: () => undefined }).pods(
    env.deployment,
    env.namespace
  );
  fireEvent.click(screen.getByRole('tab', { name: `Pods (${pods.length})` }));
  for (const p of pods) {
    // In the pods table (the log tab's pod picker names the first one too).
    await waitFor(() =>
      expect(screen.getAllByText(p.name).some(e => e.tagName === 'TD')).toBe(true)
    );
  }

  fireEvent.click(screen.getByRole('tab', { name: 'Logs' }));
  await waitFor(
    () =>
      expect(screen.getByLabelText('Log lines').textContent).toContain(
        'vLLM API server is serving requests'
      ),
    SLOW
  );

  const metrics = await createBackend({ baseUrl: env.url, getToken: () => undefined }).metrics(
    env.deployment,
    env.namespace
  );
  fireEvent.click(screen.getByRole('tab', { name: 'Metrics' }));
  if (metrics.available) {
    await screen.findByText('Samples', undefined, SLOW);
  } else {
    await screen.findByText(
      new RegExp(`Metrics are not available \\(${metrics.reason ?? ''}\\)`),
      undefined,
      SLOW
    );
  }
}, 60_000);

test('models: the curated catalog and HuggingFace search with their GPU fit', async () => {
  renderInHeadlamp(<Models />);
  await screen.findByText(env.model, undefined, SLOW);
  const row = rowOf(env.model);
  await waitFor(() => expect(within(row).getByLabelText(/^GPU fit: Fits 1× /)).toBeTruthy(), SLOW);
  expect(within(row).getByRole('link', { name: /^Deploy / })).toBeTruthy();

  fireEvent.click(screen.getByRole('tab', { name: 'HuggingFace' }));
  fireEvent.change(screen.getByLabelText('Search HuggingFace'), { target: { value: 'qwen' } });
  await screen.findAllByText(env.model, undefined, SLOW);
  const hf = screen
    .getAllByText(env.model)
    .map(e => e.closest('tr'))
    .find(r => r && within(r).queryByLabelText(/^GPU fit:/));
  expect(hf).toBeTruthy();
  expect(within(hf as HTMLElement).getByLabelText(/^GPU fit: Fits 1× /)).toBeTruthy();
}, 60_000);

test('runtimes: the built-in kubernetes provider is healthy', async () => {
  renderInHeadlamp(<Runtimes />);
  const id = await screen.findByText('kubernetes', undefined, SLOW);
  const row = id.closest('tr') as HTMLElement;
  expect(within(row).getByText('Healthy')).toBeTruthy();
}, 30_000);

test('deploy with the form, see it in the list, delete it there', async () => {
  const name = `hl-form-${Date.now().toString(36)}`;
  const admin = createBackend({ baseUrl: env.url, getToken: () => undefined });
  const path = `/c/${CLUSTER}/kubeairunway/deploy?modelId=${encodeURIComponent(
    env.model
  )}&source=catalog`;
  window.history.replaceState(null, '', path);
  const form = renderInHeadlamp(<Deploy />, path);
  const nameField = await screen.findByLabelText('Name', undefined, SLOW);
  await screen.findByLabelText(/^GPU fit: Fits 1× /, undefined, SLOW);
  expect((screen.getByLabelText('GPUs per replica') as HTMLInputElement).value).toBe('1');
  fireEvent.change(nameField, { target: { value: name } });
  fireEvent.change(screen.getByLabelText('Namespace'), { target: { value: env.namespace } });
  fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
  await waitFor(async () => {
    const d = await admin.getDeployment(name, env.namespace);
    expect(d).toMatchObject({ modelId: env.model, provider: 'kubernetes', engine: 'vllm' });
  }, SLOW);
  form.unmount();

  // Scale it to zero on its details page, once the controller reports its one desired replica
  // (before that the status says 0).
  await waitFor(async () => {
    expect((await admin.getDeployment(name, env.namespace)).replicas.desired).toBe(1);
  }, SLOW);
  const details = `/c/${CLUSTER}/kubeairunway/deployments/${env.namespace}/${name}`;
  window.history.replaceState(null, '', details);
  const page = renderInHeadlamp(
    <Route path="/c/:cluster/kubeairunway/deployments/:namespace/:name">
      <DeploymentDetails />
    </Route>,
    details
  );
  fireEvent.change(await screen.findByLabelText('Desired replicas', undefined, SLOW), {
    target: { value: '0' },
  });
  fireEvent.click(screen.getByRole('button', { name: 'Scale' }));
  await waitFor(async () => {
    expect((await admin.getDeployment(name, env.namespace)).replicas.desired).toBe(0);
  }, SLOW);
  page.unmount();

  window.history.replaceState(null, '', `/c/${CLUSTER}/kubeairunway/deployments`);
  renderInHeadlamp(<DeploymentsList />);
  await screen.findByText(name, undefined, SLOW);
  fireEvent.click(within(rowOf(name)).getByRole('button', { name: `Delete ${name}` }));
  const dialog = await screen.findByRole('dialog');
  // Headlamp's ConfirmDialog labels its buttons `confirm-button` / `cancel-button`.
  expect(within(dialog).getByRole('button', { name: 'confirm-button' }).textContent).toBe('Delete');
  fireEvent.click(within(dialog).getByRole('button', { name: 'confirm-button' }));
  await waitFor(async () => {
    const names = (await admin.listDeployments(env.namespace)).map(d => d.name);
    expect(names).not.toContain(name);
  }, SLOW);
  // The live stream removes it from the list as well.
  await waitFor(() => expect(screen.queryByText(name)).toBeNull(), SLOW);
  expect(screen.getByText(env.deployment)).toBeTruthy();
}, 90_000);

test('settings: the token source and a connection test as the Headlamp user', async () => {
  renderInHeadlamp(<PluginSettings />);
  expect(
    screen.getByText("Requests carry the Headlamp user's token for this cluster.")
  ).toBeTruthy();
  expect((screen.getByLabelText('Backend URL') as HTMLInputElement).value).toBe(env.authUrl);
  fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
  await screen.findByText(
    `Connected to ${env.authUrl}: signed in as ${env.adminName}.`,
    undefined,
    SLOW
  );

  fireEvent.change(screen.getByLabelText('Backend URL'), { target: { value: 'localhost:3001' } });
  expect(screen.getByText(/http:\/\/ or https:\/\//)).toBeTruthy();
  expect(configStore.get().backendUrl).toBe(env.authUrl);
}, 30_000);
