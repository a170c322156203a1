import { useCallback, useSyncExternalStore } from "react";

/** What the user picked; `system` follows `prefers-color-scheme`. */
export type ThemeChoice = "system" | "light" | "dark";

/** Storage key, shared with public/theme-init.js. */
export const THEME_KEY = "kubeairunway_theme";

const listeners = new Set<() => void>();

function readChoice(): ThemeChoice {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

function systemDark(): boolean {
  return window.matchMedia("(prefers-color-scheme: dark)").matches;
}

/** Puts the `dark` class on <html> for `choice`. */
export function applyTheme(choice: ThemeChoice): void {
  const dark = choice === "dark" || (choice === "system" && systemDark());
  document.documentElement.classList.toggle("dark", dark);
  document.documentElement.style.colorScheme = dark ? "dark" : "light";
}

/** Saves and applies a choice. */
export function setTheme(choice: ThemeChoice): void {
  try {
    if (choice === "system") localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, choice);
  } catch {
    // Storage blocked: the choice lasts for this page only.
  }
  applyTheme(choice);
  for (const l of listeners) l();
}

/** Re-applies the theme when the system preference changes (while the choice is `system`). */
export function watchSystemTheme(): () => void {
  const media = window.matchMedia("(prefers-color-scheme: dark)");
  const onChange = () => {
    applyTheme(readChoice());
    for (const l of listeners) l();
  };
  media.addEventListener("change", onChange);
  return () => {
    media.removeEventListener("change", onChange);
  };
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: "light", light: "dark", dark: "system" };

/** The current choice and a setter that cycles system → light → dark. */
export function useTheme(): { choice: ThemeChoice; next: ThemeChoice; cycle: () => void } {
  const choice = useSyncExternalStore(subscribe, readChoice, () => "system" as const);
  const cycle = useCallback(() => {
    setTheme(NEXT[readChoice()]);
  }, []);
  return { choice, next: NEXT[choice], cycle };
}
