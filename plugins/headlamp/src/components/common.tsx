/** Small pieces the pages share. */
import { Link, StatusLabel } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { isApiError } from '@kubeairunway/shared';
import { Alert, Box, Button, Typography } from '@mui/material';
import { type Fit, type Tone } from '../lib/format';
import { ROUTE } from '../routes';

/** A phase or state as a Headlamp status label (word and colour). */
export function Status({ tone, children }: { tone: Tone; children: string }) {
  return <StatusLabel status={tone}>{children}</StatusLabel>;
}

/** The GPU fit of a model, with the planner's reason as text (not only on hover). */
export function FitLabel({ fit, compact = false }: { fit: Fit; compact?: boolean }) {
  return (
    <Box>
      <StatusLabel status={fit.tone} aria-label={`GPU fit: ${fit.label}`}>
        {fit.label}
      </StatusLabel>
      {compact ? null : (
        <Typography variant="body2" color="text.secondary">
          {fit.detail}
        </Typography>
      )}
    </Box>
  );
}

/** What went wrong talking to the backend, with what to check. */
export function BackendError({
  error,
  baseUrl,
  onRetry,
}: {
  error: Error;
  baseUrl: string;
  onRetry?: () => void;
}) {
  const status = isApiError(error) ? error.status : 0;
  const hint =
    status === 401
      ? 'The backend needs a Kubernetes token: sign in to the cluster in Headlamp, or set a token in the plugin settings.'
      : status === 403
      ? 'Your Kubernetes user may not do this (RBAC).'
      : status === 0
      ? `The backend at ${baseUrl} cannot be reached from this browser: check the URL in the plugin settings, and that the backend allows this origin (CORS_ORIGIN).`
      : '';
  return (
    <Alert
      severity="error"
      action={
        onRetry ? (
          <Button color="inherit" size="small" onClick={onRetry}>
            Retry
          </Button>
        ) : undefined
      }
    >
      <Typography variant="body2">{error.message}</Typography>
      {hint ? <Typography variant="body2">{hint}</Typography> : null}
      <Link routeName={ROUTE.settings.name}>Plugin settings</Link>
    </Alert>
  );
}
