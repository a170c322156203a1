/**
 * KubeAIRunway in Headlamp: a sidebar section with the models (curated and HuggingFace, with
 * their GPU fit), the deploy form, the deployments (status, pods, logs, metrics) and the
 * runtimes, all through the KubeAIRunway backend's REST API (`@kubeairunway/shared`).
 */
import {
  registerPluginSettings,
  registerRoute,
  registerSidebarEntry,
} from '@kinvolk/headlamp-plugin/lib';
import { PLUGIN_NAME } from './lib/settings';
import { Deploy } from './pages/Deploy';
import { DeploymentDetails } from './pages/DeploymentDetails';
import { DeploymentsList } from './pages/DeploymentsList';
import { Models } from './pages/Models';
import { Runtimes } from './pages/Runtimes';
import { ROUTE, SIDEBAR } from './routes';
import { PluginSettings, SettingsPage } from './settings';

registerSidebarEntry({
  parent: null,
  name: SIDEBAR.root,
  label: 'KubeAIRunway',
  url: ROUTE.deployments.path,
  icon: 'mdi:robot-outline',
});
registerSidebarEntry({
  parent: SIDEBAR.root,
  name: SIDEBAR.deployments,
  label: 'Deployments',
  url: ROUTE.deployments.path,
});
registerSidebarEntry({
  parent: SIDEBAR.root,
  name: SIDEBAR.models,
  label: 'Models',
  url: ROUTE.models.path,
});
registerSidebarEntry({
  parent: SIDEBAR.root,
  name: SIDEBAR.runtimes,
  label: 'Runtimes',
  url: ROUTE.runtimes.path,
});
registerSidebarEntry({
  parent: SIDEBAR.root,
  name: SIDEBAR.settings,
  label: 'Settings',
  url: ROUTE.settings.path,
});

registerRoute({
  ...ROUTE.deployments,
  exact: true,
  sidebar: SIDEBAR.deployments,
  component: () => <DeploymentsList />,
});
registerRoute({
  ...ROUTE.deployment,
  exact: true,
  sidebar: SIDEBAR.deployments,
  component: () => <DeploymentDetails />,
});
registerRoute({
  ...ROUTE.models,
  exact: true,
  sidebar: SIDEBAR.models,
  component: () => <Models />,
});
registerRoute({
  ...ROUTE.deploy,
  exact: true,
  sidebar: SIDEBAR.models,
  component: () => <Deploy />,
});
registerRoute({
  ...ROUTE.runtimes,
  exact: true,
  sidebar: SIDEBAR.runtimes,
  component: () => <Runtimes />,
});
registerRoute({
  ...ROUTE.settings,
  exact: true,
  sidebar: SIDEBAR.settings,
  component: () => <SettingsPage />,
});

registerPluginSettings(PLUGIN_NAME, PluginSettings, false);
