import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { createBrowserRouter, Navigate, Outlet, RouterProvider, type RouteObject } from "react-router";

import { RequireAuth, UnauthorizedRedirect } from "./auth/guards";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Layout } from "./components/Layout";
import { ToastProvider } from "./components/Toasts";
import { Loading } from "./components/ui";

// Every page is its own chunk: the first load carries only the shell.
const ModelsPage = lazy(() => import("./pages/ModelsPage"));
const DeployPage = lazy(() => import("./pages/DeployPage"));
const DeploymentsPage = lazy(() => import("./pages/DeploymentsPage"));
const DeploymentDetailsPage = lazy(() => import("./pages/details/DeploymentDetailsPage"));
const SettingsPage = lazy(() => import("./pages/SettingsPage"));
const ActivityPage = lazy(() => import("./pages/ActivityPage"));
const LoginPage = lazy(() => import("./pages/LoginPage"));
const HuggingFaceCallbackPage = lazy(() => import("./pages/HuggingFaceCallbackPage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));

function Root() {
  return (
    <>
      <UnauthorizedRedirect />
      <Outlet />
    </>
  );
}

function Bare() {
  return (
    <ErrorBoundary>
      <Suspense fallback={<Loading label="Loading page…" />}>
        <Outlet />
      </Suspense>
    </ErrorBoundary>
  );
}

function Protected() {
  return (
    <RequireAuth>
      <Layout />
    </RequireAuth>
  );
}

/** The route table (docs/contract/ui.md §1.2, plus a 404 page). */
export const routes: RouteObject[] = [
  {
    element: <Root />,
    children: [
      {
        element: <Bare />,
        children: [
          { path: "/login", element: <LoginPage /> },
          { path: "/oauth/callback/huggingface", element: <HuggingFaceCallbackPage /> },
        ],
      },
      {
        element: <Protected />,
        children: [
          { path: "/", element: <ModelsPage /> },
          { path: "/deploy/:modelId", element: <DeployPage /> },
          { path: "/deployments", element: <DeploymentsPage /> },
          { path: "/deployments/:name", element: <DeploymentDetailsPage /> },
          { path: "/settings", element: <SettingsPage /> },
          { path: "/activity", element: <ActivityPage /> },
          { path: "/installation", element: <Navigate to="/settings?tab=runtimes" replace /> },
          { path: "*", element: <NotFoundPage /> },
        ],
      },
    ],
  },
];

/** The app with its providers; `router` is injectable for tests. */
export function App({ queryClient, router }: { queryClient: QueryClient; router?: ReturnType<typeof createBrowserRouter> }) {
  return (
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <RouterProvider router={router ?? createBrowserRouter(routes)} />
      </ToastProvider>
    </QueryClientProvider>
  );
}
