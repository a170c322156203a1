/**
 * The plugin's settings: in Headlamp's Settings → Plugins → kubeairunway-headlamp-plugin, and
 * under the plugin's own sidebar entry. Values are saved in Headlamp's ConfigStore.
 */
import { SectionBox } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { Alert, Box, Button, TextField, Typography } from '@mui/material';
import { useState } from 'react';
import { configStore, usePluginConfig } from './config';
import { useBackend, useTokenSource } from './hooks';
import { backendUrlOf, backendUrlProblem, DEFAULT_BACKEND_URL } from './lib/settings';

const SOURCE_TEXT = {
  headlamp: "Requests carry the Headlamp user's token for this cluster.",
  settings: 'Requests carry the token saved below.',
  none: 'Requests carry no token (Headlamp keeps its token in a cookie scripts cannot read); a backend with authentication on needs a token saved below.',
} as const;

/** The settings form (saves on every change, as Headlamp's plugin settings do). */
export function PluginSettings() {
  const config = usePluginConfig();
  const [url, setUrl] = useState(config?.backendUrl ?? '');
  const [token, setToken] = useState(config?.token ?? '');
  const problem = backendUrlProblem(url);
  const source = useTokenSource();

  return (
    <Box display="flex" flexDirection="column" gap={2} maxWidth={640}>
      <TextField
        label="Backend URL"
        value={url}
        placeholder={DEFAULT_BACKEND_URL}
        onChange={e => {
          setUrl(e.target.value);
          if (backendUrlProblem(e.target.value) === null)
            configStore.update({ backendUrl: e.target.value.trim() });
        }}
        error={problem !== null}
        helperText={
          problem ??
          `Empty: the in-cluster Service ${DEFAULT_BACKEND_URL}. Now: ${backendUrlOf(config)}`
        }
      />
      <TextField
        label="Kubernetes token (optional)"
        type="password"
        value={token}
        autoComplete="off"
        onChange={e => {
          setToken(e.target.value);
          configStore.update({ token: e.target.value.trim() });
        }}
        helperText="Used only when Headlamp hands out no token of its own."
      />
      <Typography variant="body2">{SOURCE_TEXT[source]}</Typography>
      <ConnectionTest />
    </Box>
  );
}

/** Asks the backend who the requests act as. */
function ConnectionTest() {
  const backend = useBackend();
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();
  const test = async () => {
    setResult(undefined);
    try {
      await backend.health();
      const who = await backend.whoami();
      const user = who.authEnabled
        ? `signed in as ${who.username ?? 'an unnamed user'}`
        : 'authentication is off';
      setResult({ ok: true, text: `Connected to ${backend.baseUrl}: ${user}.` });
    } catch (e) {
      setResult({
        ok: false,
        text: `${backend.baseUrl}: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  };
  return (
    <Box>
      <Button variant="outlined" onClick={() => void test()}>
        Test connection
      </Button>
      {result ? (
        <Alert severity={result.ok ? 'success' : 'error'} sx={{ mt: 1 }}>
          {result.text}
        </Alert>
      ) : null}
    </Box>
  );
}

/** The settings as a page of the plugin's own. */
export function SettingsPage() {
  return (
    <SectionBox title="KubeAIRunway settings">
      <PluginSettings />
    </SectionBox>
  );
}
