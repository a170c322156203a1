import { useEffect, useState } from "react";

/** `42s`, `5m`, `3h`, `2d` since `iso` (as kubectl prints ages). */
export function age(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** A date and time in the user's locale. */
export function dateTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

/** The current time, updated every `intervalMs` (ages tick without refetching). */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => {
      setNow(Date.now());
    }, intervalMs);
    return () => {
      clearInterval(id);
    };
  }, [intervalMs]);
  return now;
}

/** `vLLM`, `SGLang`, `TensorRT-LLM`, `llama.cpp`, or the raw value. */
export function engineLabel(engine: string | null | undefined): string {
  switch (engine) {
    case "vllm":
      return "vLLM";
    case "sglang":
      return "SGLang";
    case "trtllm":
      return "TensorRT-LLM";
    case "llamacpp":
      return "llama.cpp";
    case null:
    case undefined:
    case "":
      return "—";
    default:
      return engine;
  }
}
