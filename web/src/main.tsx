import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { makeQueryClient } from "./api/queryClient";
import { App } from "./App";
import { consumeMagicLink, watchMagicLinks } from "./auth/store";
import "./index.css";
import { watchSystemTheme } from "./theme/theme";

// A magic link (`/login#token=…`) is read and removed from the address bar before anything renders,
// and again whenever one is opened in this tab later (a fragment change does not reload the page).
consumeMagicLink();
watchMagicLinks();
watchSystemTheme();

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");

createRoot(root).render(
  <StrictMode>
    <App queryClient={makeQueryClient()} />
  </StrictMode>,
);
