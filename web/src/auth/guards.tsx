import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, type ReactNode } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";

import { useAuthMode } from "../api/hooks";
import { Loading } from "../components/ui";
import { useAuthStore } from "./store";

/** Where the login page returns to. */
export interface LoginState {
  from?: string;
}

/**
 * Renders its children when the user may see them: auth is off, or a token is stored. With auth
 * on and no token it sends the user to /login, remembering where they wanted to go. When the
 * server cannot tell (cluster down), it lets them in: any 401 will still send them to /login.
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const mode = useAuthMode();
  const { token } = useAuthStore();
  const location = useLocation();
  if (mode.isPending) return <Loading label="Checking authentication…" />;
  if (mode.data === true && token === null) {
    const state: LoginState = { from: `${location.pathname}${location.search}` };
    return <Navigate to="/login" replace state={state} />;
  }
  return children;
}

/**
 * Sends the user to /login after any 401 (the auth store has recorded why), from wherever it
 * happened, and drops cached data that belonged to the old session.
 */
export function UnauthorizedRedirect() {
  const { unauthorizedAt } = useAuthStore();
  const navigate = useNavigate();
  const location = useLocation();
  const qc = useQueryClient();
  const handled = useRef(0);
  const path = `${location.pathname}${location.search}`;
  useEffect(() => {
    if (unauthorizedAt === 0 || unauthorizedAt === handled.current) return;
    handled.current = unauthorizedAt;
    if (location.pathname === "/login") return;
    void qc.cancelQueries();
    qc.removeQueries({ predicate: (q) => q.queryKey[0] !== "auth-mode" });
    const state: LoginState = { from: path };
    void navigate("/login", { replace: true, state });
  }, [unauthorizedAt, navigate, location.pathname, path, qc]);
  return null;
}
