// Module hooks (node:module `register`) that load TypeScript sources as ES modules: relative
// imports without an extension resolve to `.ts` files (the sources use bundler resolution), and
// `.ts` files are transpiled (types removed, nothing checked: `npm run typecheck` does that).
import { readFile } from "node:fs/promises";
import ts from "typescript";

const RELATIVE = /^\.{1,2}\//;

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL ?? "";
  if (RELATIVE.test(specifier) && parent.endsWith(".ts") && !/\.[cm]?[jt]s$/.test(specifier)) {
    try {
      return await nextResolve(`${specifier}.ts`, context);
    } catch {
      // Not a TypeScript file: resolve as given.
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return nextLoad(url, context);
  const source = await readFile(new URL(url), "utf8");
  const { outputText } = ts.transpileModule(source, {
    fileName: url,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      sourceMap: false,
      inlineSourceMap: true,
    },
  });
  return { format: "module", source: outputText, shortCircuit: true };
}
