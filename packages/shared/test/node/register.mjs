// Lets Node's own test runner run TypeScript: `node --import ./test/node/register.mjs --test x.ts`.
// Node 20 cannot strip types itself, so the hooks in ts-hooks.mjs transpile `.ts` files with this
// package's TypeScript compiler.
import { register } from "node:module";

register("./ts-hooks.mjs", import.meta.url);
