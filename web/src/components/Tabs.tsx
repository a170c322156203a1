import { useId, useRef, type KeyboardEvent, type ReactNode } from "react";

import { cx } from "./ui";

/** One tab. */
export interface TabItem<K extends string> {
  key: K;
  label: ReactNode;
}

/**
 * A tab list with the ARIA tabs pattern: arrow keys, Home and End move between tabs (and
 * select them), only the selected tab is in the Tab order. Render the panel with
 * {@link tabPanelProps}.
 */
export function Tabs<K extends string>({
  label,
  items,
  selected,
  onSelect,
  idBase,
}: {
  label: string;
  items: TabItem<K>[];
  selected: K;
  onSelect: (key: K) => void;
  idBase: string;
}) {
  const refs = useRef(new Map<K, HTMLButtonElement>());
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const index = items.findIndex((t) => t.key === selected);
    let next = index;
    if (e.key === "ArrowRight") next = (index + 1) % items.length;
    else if (e.key === "ArrowLeft") next = (index - 1 + items.length) % items.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = items.length - 1;
    else return;
    e.preventDefault();
    const item = items[next];
    if (!item) return;
    onSelect(item.key);
    refs.current.get(item.key)?.focus();
  };
  return (
    <div role="tablist" aria-label={label} className="flex gap-1 border-b border-line" onKeyDown={onKeyDown}>
      {items.map((t) => {
        const active = t.key === selected;
        return (
          <button
            key={t.key}
            ref={(el) => {
              if (el) refs.current.set(t.key, el);
              else refs.current.delete(t.key);
            }}
            type="button"
            role="tab"
            id={`${idBase}-tab-${t.key}`}
            aria-selected={active}
            aria-controls={`${idBase}-panel-${t.key}`}
            tabIndex={active ? 0 : -1}
            onClick={() => {
              onSelect(t.key);
            }}
            className={cx(
              "-mb-px border-b-2 px-3 py-2 text-sm font-medium",
              active ? "border-primary text-fg" : "border-transparent text-muted hover:text-fg",
            )}
          >
            {t.label}
          </button>
        );
      })}
    </div>
  );
}

/** Props of the panel of tab `key`. */
export function tabPanelProps(idBase: string, key: string) {
  return {
    role: "tabpanel",
    id: `${idBase}-panel-${key}`,
    "aria-labelledby": `${idBase}-tab-${key}`,
    tabIndex: 0,
  } as const;
}

/** A stable id base for a tab set. */
export function useTabsId(): string {
  return useId().replace(/:/g, "");
}
