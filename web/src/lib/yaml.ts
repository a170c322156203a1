// A small YAML emitter for JSON values (manifests), so the UI needs no YAML library.
// Strings YAML would read as something else are written as JSON strings, which are valid YAML
// double-quoted scalars; multi-line strings become literal blocks.

const PLAIN = /^[A-Za-z_/.][A-Za-z0-9_ ./:@+-]*$/;
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;

function scalar(value: string): string {
  const plain =
    value !== "" && PLAIN.test(value) && !RESERVED.test(value) && !value.endsWith(" ") && !value.includes(": ");
  return plain ? value : JSON.stringify(value);
}

type Node = { inline: string } | { block: string[]; seq: boolean } | { text: string[]; header: string };

function node(value: unknown, indent: string): Node {
  if (value === null || value === undefined) return { inline: "null" };
  if (typeof value === "string") {
    if (value.includes("\n") && !/[\r\t]/.test(value)) {
      const header = value.endsWith("\n") ? "|" : "|-";
      const body = value.endsWith("\n") ? value.slice(0, -1) : value;
      return { header, text: body.split("\n") };
    }
    return { inline: scalar(value) };
  }
  if (typeof value === "number" || typeof value === "boolean") return { inline: String(value) };
  if (Array.isArray(value)) {
    if (value.length === 0) return { inline: "[]" };
    return { block: seqLines(value, indent), seq: true };
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return { inline: "{}" };
    return { block: mapLines(entries, indent), seq: false };
  }
  return { inline: JSON.stringify(value) };
}

function textLines(lines: string[], indent: string): string[] {
  return lines.map((l) => (l === "" ? "" : `${indent}${l}`));
}

function mapLines(entries: [string, unknown][], indent: string): string[] {
  const out: string[] = [];
  for (const [k, v] of entries) {
    const head = `${indent}${scalar(k)}:`;
    // Sequences under a key sit at the key's indentation (as kubectl prints them).
    const n = node(v, Array.isArray(v) ? indent : `${indent}  `);
    if ("inline" in n) out.push(`${head} ${n.inline}`);
    else if ("text" in n) out.push(`${head} ${n.header}`, ...textLines(n.text, `${indent}  `));
    else out.push(head, ...n.block);
  }
  return out;
}

function seqLines(items: unknown[], indent: string): string[] {
  const out: string[] = [];
  for (const item of items) {
    const n = node(item, `${indent}  `);
    if ("inline" in n) out.push(`${indent}- ${n.inline}`);
    else if ("text" in n) out.push(`${indent}- ${n.header}`, ...textLines(n.text, `${indent}  `));
    else if (n.seq) out.push(`${indent}-`, ...n.block);
    else {
      const [first = "", ...rest] = n.block;
      out.push(`${indent}- ${first.slice(indent.length + 2)}`, ...rest);
    }
  }
  return out;
}

/** `value` as a YAML document (no leading `---`), ending with a newline. */
export function toYaml(value: unknown): string {
  const n = node(value, "");
  if ("inline" in n) return `${n.inline}\n`;
  if ("text" in n) return `${n.header}\n${textLines(n.text, "  ").join("\n")}\n`;
  return `${n.block.join("\n")}\n`;
}
