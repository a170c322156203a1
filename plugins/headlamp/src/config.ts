/** The plugin's settings in Headlamp's ConfigStore (persisted by Headlamp). */
import { ConfigStore } from '@kinvolk/headlamp-plugin/lib';
import { PLUGIN_NAME, type PluginConfig } from './lib/settings';

export const configStore = new ConfigStore<PluginConfig>(PLUGIN_NAME);
/** A hook: the current settings (re-renders when they change). */
export const usePluginConfig = configStore.useConfig();
