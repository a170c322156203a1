// Sets the theme class before the app loads, so a dark-theme user never sees a white flash.
// Kept in sync with src/theme/theme.ts (key and values).
(function () {
  var choice = "system";
  try {
    choice = localStorage.getItem("kubeairunway_theme") || "system";
  } catch (e) {
    // Storage may be blocked; follow the system.
  }
  var dark =
    choice === "dark" ||
    (choice !== "light" && window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.classList.toggle("dark", dark);
  document.documentElement.style.colorScheme = dark ? "dark" : "light";
})();
