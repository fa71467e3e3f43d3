import { useCallback, useState } from "react";
import type { Api } from "../api/client";
import type { GalleryImage, Style } from "../api/types";
import { useListing, type Listing } from "./useListing";

export interface Catalog {
  styles: Listing<Style>;
  gallery: Listing<GalleryImage>;
  /** The chosen style's id: the first style until the person picks one. */
  styleId: string | null;
  /** The chosen style, once the list has it. */
  style: Style | null;
  selectStyle(id: string): void;
}

// What the server offers: its styles (one of them selected) and its gallery of sample photos.
export function useCatalog(api: Api): Catalog {
  const [styleId, setStyleId] = useState<string | null>(null);

  const listStyles = useCallback(
    (signal: AbortSignal) =>
      api.listStyles(signal).then((list) => {
        setStyleId((current) => current ?? list[0]?.id ?? null);
        return list;
      }),
    [api],
  );
  const listGallery = useCallback((signal: AbortSignal) => api.listGallery(signal), [api]);

  const styles = useListing(listStyles);
  const gallery = useListing(listGallery);
  const style = styles.items?.find((candidate) => candidate.id === styleId) ?? null;

  return { styles, gallery, styleId, style, selectStyle: setStyleId };
}
