// Measures what the first page load downloads from web/dist: the JS that index.html loads
// (entry script and modulepreloads) and its CSS, gzip-compressed. Fails when the initial JS
// exceeds the budget of issue 6 (200 KB gzip).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 200 * 1024;
const dist = new URL("../dist/", import.meta.url);
const html = readFileSync(new URL("index.html", dist), "utf8");
const refs = (pattern) => [...html.matchAll(pattern)].map((m) => m[1].replace(/^\//, ""));
const js = [
  ...refs(/<script[^>]+src="([^"]+)"/g),
  ...refs(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
];
const css = refs(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g);

const gz = (file) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
let total = 0;
for (const f of new Set(js)) {
  const n = gz(f);
  total += n;
  console.log(`js   ${kb(n).padStart(9)}  ${f}`);
}
for (const f of css) console.log(`css  ${kb(gz(f)).padStart(9)}  ${f}`);
console.log(`initial JS: ${kb(total)} gzip (budget ${kb(BUDGET)})`);
if (total > BUDGET) {
  console.error("over budget: lazy-load more of the app");
  process.exit(1);
}
