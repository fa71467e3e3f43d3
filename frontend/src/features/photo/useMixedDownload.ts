import { useEffect, useState } from "react";
import type { Mixer } from "../../image/mix";
import { downloadName, type PhotoResult } from "./useStylizeJob";

/** What the Download link offers: the result at the chosen strength, named for it; url is null while it is made. */
export interface MixedDownload {
  url: string | null;
  fileName: string;
  /** Why there is none (the browser could not mix the images). */
  error?: string;
}

/** How long the strength slider must rest before the download at that strength is made. */
export const MIX_DELAY_MS = 120;

// The download at the chosen strength. The screen shows the mix at once (CSS opacity over the photo: the same
// sum); the file is made from the two images' pixels once the slider rests. At 100% it is the result itself.
export function useMixedDownload(result: PhotoResult | null, strength: number, mixer: Mixer, photoName: string): MixedDownload {
  const [mixed, setMixed] = useState<{ result: PhotoResult; strength: number; url: string | null; error?: string } | null>(null);
  const name = result && downloadName({
    photoName,
    styleName: result.styleName,
    strength,
    keepColours: result.keepColours,
    fullSize: result.fullSize,
    type: result.stylized.type,
  });

  useEffect(() => {
    if (!result || strength >= 1) return;
    let alive = true;
    let made: string | null = null;
    const timer = window.setTimeout(() => {
      mixer({ photo: result.photoBlob, stylized: result.stylized, width: result.width, height: result.height, strength }).then(
        (blob) => {
          if (!alive) return;
          made = URL.createObjectURL(blob);
          setMixed({ result, strength, url: made });
        },
        (error: unknown) => alive && setMixed({ result, strength, url: null, error: error instanceof Error ? error.message : String(error) }),
      );
    }, MIX_DELAY_MS);
    return () => {
      alive = false;
      window.clearTimeout(timer);
      if (made) URL.revokeObjectURL(made);
    };
  }, [result, strength, mixer]);

  if (!result || !name) return { url: null, fileName: "" };
  if (strength >= 1) return { url: result.url, fileName: name };
  if (mixed && mixed.result === result && mixed.strength === strength) return { url: mixed.url, fileName: name, error: mixed.error };
  return { url: null, fileName: name };
}
