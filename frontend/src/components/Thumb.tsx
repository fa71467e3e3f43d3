// A square thumbnail; when the API has none (thumbnail: null) a tile with the initials stands in,
// its hue derived from the label so each style keeps its own colour.
export function Thumb({ src, label }: { src: string | null | undefined; label: string }) {
  if (src) return <img className="thumb" src={src} alt="" loading="lazy" draggable={false} />;
  const initials = label
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0]?.toUpperCase())
    .join("");
  return (
    <span className="thumb thumb--initials" style={{ ["--hue" as string]: hueOf(label) }} aria-hidden="true">
      {initials}
    </span>
  );
}

function hueOf(text: string): number {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % 360;
}
