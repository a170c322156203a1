import {
  ConfirmDialog,
  SectionBox,
  SimpleTable,
} from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import type { RuntimeStatus } from '@kubeairunway/shared';
import { Alert, Button } from '@mui/material';
import { useState } from 'react';
import { BackendError, Status } from '../components/common';
import { useBackend, useResource } from '../hooks';
import { runtimeState } from '../lib/runtimes';

/** How often the runtimes refresh (an installation changes them). */
const REFRESH_MS = 10_000;

/** The providers registered with the controller, and installing or removing their operators. */
export function Runtimes() {
  const backend = useBackend();
  const runtimes = useResource(() => backend.runtimes(), [backend], REFRESH_MS);
  const [notice, setNotice] = useState<string | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [uninstall, setUninstall] = useState<RuntimeStatus | null>(null);

  const run = async (action: 'install' | 'uninstall', r: RuntimeStatus) => {
    setError(undefined);
    try {
      const answer =
        action === 'install'
          ? await backend.installProvider(r.id)
          : await backend.uninstallProvider(r.id);
      const job = 'jobId' in answer ? ` (job ${String(answer.jobId)})` : '';
      setNotice(
        `${action === 'install' ? 'Installing' : 'Uninstalling'} ${
          r.name
        }${job}; the table follows its state.`
      );
      runtimes.refresh();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };

  return (
    <SectionBox title="Runtimes">
      {runtimes.error ? (
        <BackendError error={runtimes.error} baseUrl={backend.baseUrl} onRetry={runtimes.refresh} />
      ) : null}
      {error ? <BackendError error={error} baseUrl={backend.baseUrl} /> : null}
      {notice ? <Alert severity="info">{notice}</Alert> : null}
      <SimpleTable
        data={runtimes.data ?? null}
        emptyMessage="No provider has registered with the controller."
        columns={[
          { label: 'Runtime', getter: (r: RuntimeStatus) => r.name },
          { label: 'Id', getter: (r: RuntimeStatus) => r.id },
          {
            label: 'Status',
            getter: (r: RuntimeStatus) => {
              const s = runtimeState(r);
              return <Status tone={s.tone}>{s.label}</Status>;
            },
          },
          { label: 'Version', getter: (r: RuntimeStatus) => r.version ?? '-' },
          { label: 'Details', getter: (r: RuntimeStatus) => r.message },
          {
            label: 'Actions',
            getter: (r: RuntimeStatus) =>
              r.id === 'kubernetes' ? (
                'Built in'
              ) : r.installed ? (
                <Button size="small" color="error" onClick={() => setUninstall(r)}>
                  Uninstall
                </Button>
              ) : (
                <Button size="small" onClick={() => void run('install', r)}>
                  Install
                </Button>
              ),
          },
        ]}
      />
      <ConfirmDialog
        open={uninstall !== null}
        title="Uninstall runtime"
        description={
          uninstall ? `Uninstall ${uninstall.name}? Deployments that use it stop being served.` : ''
        }
        confirmLabel="Uninstall"
        onConfirm={() => {
          const r = uninstall;
          setUninstall(null);
          if (r) void run('uninstall', r);
        }}
        handleClose={() => setUninstall(null)}
      />
    </SectionBox>
  );
}
