import { useState } from "react";

import { useGgufFiles, usePremadeModels } from "../../api/aikit";
import { defaultGgufFile, initialKaito, matchPremade, type KaitoValues } from "../../lib/kaito";

/**
 * The KAITO options' state for `modelId`: what the user chose, with the defaults filled in once
 * the lists arrive (the premade model matching a curated `kaito/…` id, the Q4_K_M file).
 * Queries run only while `active` (KAITO runtime with llama.cpp).
 */
export function useKaito(modelId: string, active: boolean) {
  const [chosen, setChosen] = useState<KaitoValues>(() => initialKaito(modelId));
  const premade = usePremadeModels(active && chosen.source === "premade");
  const files = useGgufFiles(modelId, active && chosen.source === "huggingface");
  const values: KaitoValues = {
    ...chosen,
    premadeModel: chosen.premadeModel || (matchPremade(modelId, premade.data?.models ?? [])?.id ?? ""),
    ggufFile: chosen.ggufFile || defaultGgufFile(files.data?.files ?? []),
  };
  const update = (patch: Partial<KaitoValues>) => {
    setChosen((c) => ({ ...c, ...patch }));
  };
  return { values, update, premade, files };
}

/** What {@link useKaito} returns. */
export type KaitoState = ReturnType<typeof useKaito>;
