import { Link, useLocation } from "react-router";

import { PageHeader } from "../components/PageHeader";

/** Any unknown path. */
export default function NotFoundPage() {
  const location = useLocation();
  return (
    <div>
      <PageHeader title="Page not found" />
      <p className="text-muted">
        There is no page at <code className="rounded bg-surface-2 px-1">{location.pathname}</code>.
      </p>
      <ul className="mt-4 flex gap-4 text-sm">
        <li>
          <Link className="text-primary underline" to="/">
            Model catalog
          </Link>
        </li>
        <li>
          <Link className="text-primary underline" to="/deployments">
            Deployments
          </Link>
        </li>
        <li>
          <Link className="text-primary underline" to="/settings">
            Settings
          </Link>
        </li>
      </ul>
    </div>
  );
}
