import type { ActivityEntry, ActivityList } from "@kubeairunway/shared";

import { dateTime } from "../lib/format";
import { Badge, Button, EmptyState, TableHead } from "./ui";

const COLUMNS = ["Time", "User", "Action", "Object", "Outcome", "What happened"] as const;

/** The object an entry is about, as people name it. */
export function objectLabel(e: ActivityEntry): string {
  const where = e.object.namespace ? `${e.object.namespace}/` : "";
  return `${e.object.kind} ${where}${e.object.name}`;
}

/** A page of activity entries with its pager (`onOffset` moves to another page). */
export function ActivityTable({
  page,
  onOffset,
  showObject = true,
}: {
  page: ActivityList;
  onOffset: (offset: number) => void;
  showObject?: boolean;
}) {
  if (page.total === 0) {
    return (
      <EmptyState title="No activity">
        Changes made through KubeAIRunway appear here for as long as the cluster keeps Events (one hour by default).
      </EmptyState>
    );
  }
  const columns = showObject ? COLUMNS : COLUMNS.filter((c) => c !== "Object");
  const first = page.items.length === 0 ? 0 : page.offset + 1;
  const last = page.offset + page.items.length;
  return (
    <div className="flex flex-col gap-3">
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <TableHead columns={columns} />
          <tbody>
            {page.items.map((e, i) => (
              <tr key={`${e.time}-${String(i)}`} className="border-t border-line align-top">
                <td className="py-2 pr-4 whitespace-nowrap">
                  <time dateTime={e.time}>{dateTime(e.time)}</time>
                </td>
                <td className="py-2 pr-4">
                  <span className="font-medium">{e.user}</span>
                  {e.groups.length > 0 ? <span className="block text-xs text-muted">{e.groups.join(", ")}</span> : null}
                </td>
                <td className="py-2 pr-4">{e.action}</td>
                {showObject ? <td className="py-2 pr-4 break-all">{objectLabel(e)}</td> : null}
                <td className="py-2 pr-4">
                  <Badge tone={e.outcome === "succeeded" ? "ok" : e.outcome === "refused" ? "warn" : "bad"}>
                    {e.outcome} ({e.statusCode})
                  </Badge>
                </td>
                <td className="py-2 break-words">{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav aria-label="Activity pages" className="flex items-center justify-between gap-2 text-sm">
        <p role="status" className="text-muted">
          {first}–{last} of {page.total}
        </p>
        <div className="flex gap-2">
          <Button
            disabled={page.offset === 0}
            onClick={() => {
              onOffset(Math.max(0, page.offset - page.limit));
            }}
          >
            Newer
          </Button>
          <Button
            disabled={last >= page.total}
            onClick={() => {
              onOffset(page.offset + page.limit);
            }}
          >
            Older
          </Button>
        </div>
      </nav>
    </div>
  );
}
