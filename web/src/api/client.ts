import { createApiClient, type ApiClient } from "@kubeairunway/shared";

import { getToken, reportUnauthorized } from "../auth/store";

/**
 * The app's one API client: same origin, the stored token on every request, and every 401
 * reported to the auth store (which sends the user to /login with a message).
 */
export const client: ApiClient = createApiClient({
  getToken,
  onUnauthorized: (error, hadToken) => {
    reportUnauthorized(hadToken, error.message);
  },
});

/** The typed openapi-fetch client. */
export const api = client.api;
