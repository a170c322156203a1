import { isApiError } from "@kubeairunway/shared";
import { useQueryClient } from "@tanstack/react-query";
import { Suspense, useEffect, useRef, useState } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router";

import { useAuthMode, useClusterStatus, useWhoAmI } from "../api/hooks";
import { signOut, useAuthStore } from "../auth/store";
import { useTheme } from "../theme/theme";
import { ErrorBoundary } from "./ErrorBoundary";
import { Badge, Loading, cx } from "./ui";

const NAV = [
  { to: "/", label: "Models", end: true },
  { to: "/deployments", label: "Deployments", end: false },
  { to: "/activity", label: "Activity", end: false },
  { to: "/settings", label: "Settings", end: false },
] as const;

/** The frame of every signed-in page: skip link, header, navigation, and the page. */
export function Layout() {
  const location = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const firstRender = useRef(true);

  // After a navigation, move focus to the new page's heading (or the main region), so keyboard
  // and screen-reader users start at the new content. The first load keeps the browser's focus.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    setMenuOpen(false);
    const id = requestAnimationFrame(() => {
      const main = mainRef.current;
      if (!main) return;
      const heading = main.querySelector<HTMLElement>("h1");
      (heading ?? main).focus();
    });
    return () => {
      cancelAnimationFrame(id);
    };
  }, [location.pathname]);

  return (
    <div className="flex min-h-screen flex-col bg-bg text-fg">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-primary focus:px-3 focus:py-2 focus:text-primary-fg"
      >
        Skip to content
      </a>
      <Header
        menuOpen={menuOpen}
        onToggleMenu={() => {
          setMenuOpen((o) => !o);
        }}
      />
      <ClusterWarnings />
      <div className="flex flex-1">
        <nav
          id="site-nav"
          aria-label="Main"
          className={cx("w-52 shrink-0 border-r border-line bg-surface p-3 md:block", menuOpen ? "block" : "hidden")}
        >
          <ul className="flex flex-col gap-1">
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink
                  to={item.to}
                  end={item.end}
                  className={({ isActive }) =>
                    cx(
                      "block rounded-md px-3 py-2 text-sm font-medium",
                      isActive ? "bg-primary text-primary-fg" : "text-fg hover:bg-surface-2",
                    )
                  }
                >
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" ref={mainRef} tabIndex={-1} className="min-w-0 flex-1 p-4 outline-none md:p-6">
          <ErrorBoundary>
            <Suspense fallback={<Loading label="Loading page…" />}>
              <Outlet />
            </Suspense>
          </ErrorBoundary>
        </main>
      </div>
    </div>
  );
}

function Header({ menuOpen, onToggleMenu }: { menuOpen: boolean; onToggleMenu: () => void }) {
  return (
    <header className="flex h-14 items-center gap-3 border-b border-line bg-surface px-4">
      <button
        type="button"
        className="rounded-md border border-line px-2 py-1 text-sm md:hidden"
        aria-controls="site-nav"
        aria-expanded={menuOpen}
        onClick={onToggleMenu}
      >
        Menu
      </button>
      <NavLink to="/" className="flex items-center gap-2 font-semibold">
        <img src="/favicon.svg" alt="" width={24} height={24} />
        <span>KubeAIRunway</span>
      </NavLink>
      <div className="ml-auto flex items-center gap-2">
        <ClusterBadge />
        <ThemeToggle />
        <UserMenu />
      </div>
    </header>
  );
}

/** The cluster's connection state, announced politely when it changes. */
export function ClusterBadge() {
  const status = useClusterStatus();
  let content;
  if (status.isPending) {
    content = <Badge tone="neutral">Connecting…</Badge>;
  } else if (status.isError) {
    content = <Badge tone="bad">Server unreachable</Badge>;
  } else if (status.data.connected) {
    content = (
      <Badge tone="ok">
        <span aria-hidden="true">●</span> Connected
        {status.data.clusterName ? (
          <span className="hidden max-w-40 truncate font-normal lg:inline">· {status.data.clusterName}</span>
        ) : null}
      </Badge>
    );
  } else {
    content = (
      <Badge tone="bad">
        <span aria-hidden="true">✕</span> Disconnected
      </Badge>
    );
  }
  return (
    <div role="status" aria-live="polite" aria-label="Cluster connection">
      {content}
    </div>
  );
}

/** Problems the user should know about on every page: cluster unreachable, CRD missing. */
export function ClusterWarnings() {
  const status = useClusterStatus();
  const warnings: string[] = [];
  if (status.isError) {
    warnings.push(
      isApiError(status.error) && status.error.status === 0
        ? "Cannot reach the KubeAIRunway server. Is `kubeairunway serve` running?"
        : `Cluster status unavailable: ${status.error.message}`,
    );
  } else if (status.data) {
    if (!status.data.connected) {
      warnings.push(`The Kubernetes cluster is unreachable${status.data.error ? `: ${status.data.error}` : "."}`);
    } else if (status.data.providerInstallation && !status.data.providerInstallation.installed) {
      warnings.push(status.data.providerInstallation.message);
    }
  }
  return (
    <div role="status" aria-live="polite">
      {warnings.map((w) => (
        <p key={w} className="border-b border-warn/40 bg-warn-soft px-4 py-2 text-sm text-fg">
          <span aria-hidden="true" className="mr-1 font-bold text-warn">
            ⚠
          </span>
          {w}
        </p>
      ))}
    </div>
  );
}

const THEME_LABEL = { system: "System", light: "Light", dark: "Dark" } as const;

/** Cycles the theme: system → light → dark. */
export function ThemeToggle() {
  const { choice, next, cycle } = useTheme();
  return (
    <button
      type="button"
      className="rounded-md border border-line px-2 py-1 text-sm hover:bg-surface-2"
      aria-label={`Theme: ${THEME_LABEL[choice]}. Switch to ${THEME_LABEL[next]}`}
      title={`Theme: ${THEME_LABEL[choice]}`}
      onClick={cycle}
    >
      <span aria-hidden="true">{choice === "dark" ? "☾" : choice === "light" ? "☀" : "◐"}</span>
      <span className="ml-1 hidden sm:inline">{THEME_LABEL[choice]}</span>
    </button>
  );
}

/** Who is signed in, with a sign-out button; only when the server requires tokens. */
export function UserMenu() {
  const mode = useAuthMode();
  const { token, username } = useAuthStore();
  const who = useWhoAmI(mode.data === true);
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  const qc = useQueryClient();
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);

  if (mode.data !== true || token === null) return null;
  const name = who.data?.username ?? username ?? (isApiError(who.error) ? "Unknown user" : "Signed in");

  return (
    <div
      ref={ref}
      className="relative"
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) {
          setOpen(false);
          ref.current?.querySelector("button")?.focus();
        }
      }}
    >
      <button
        type="button"
        className="max-w-48 truncate rounded-md border border-line px-2 py-1 text-sm hover:bg-surface-2"
        aria-label={`User menu: ${name}`}
        aria-expanded={open}
        aria-controls="user-menu"
        onClick={() => {
          setOpen((o) => !o);
        }}
      >
        {name}
      </button>
      {open ? (
        <div
          id="user-menu"
          className="absolute right-0 z-40 mt-2 w-64 rounded-lg border border-line bg-surface p-3 text-sm shadow-lg"
        >
          <p className="text-muted">Signed in as</p>
          <p className="font-medium break-all">{name}</p>
          {who.data && who.data.groups.length > 0 ? (
            <p className="mt-1 text-xs break-words text-muted">Groups: {who.data.groups.join(", ")}</p>
          ) : null}
          <button
            type="button"
            className="mt-3 w-full rounded-md border border-line px-3 py-1.5 font-medium hover:bg-surface-2"
            onClick={() => {
              setOpen(false);
              signOut({ kind: "signed-out", message: "You signed out." });
              qc.clear();
              void navigate("/login", { replace: true });
            }}
          >
            Sign out
          </button>
        </div>
      ) : null}
    </div>
  );
}
