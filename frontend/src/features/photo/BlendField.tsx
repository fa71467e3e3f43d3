import type { Style } from "../../api/types";
import { ShareSlider } from "../../components/ShareSlider";

interface Props {
  /** The picked style: the blend's first style. */
  style: Style | null;
  /** The styles that can be mixed with it: blendable, in its network, not itself. */
  partners: Style[];
  secondId: string | null;
  /** The first style's share, 0..1. */
  share: number;
  onSecond(id: string | null): void;
  onShare(share: number): void;
}

// Blending mixes two paintings inside one network (their instance-norm scales and shifts), so only styles
// of the picked style's network are offered. Native controls keep it usable by keyboard and screen reader.
export function BlendField({ style, partners, secondId, share, onSecond, onShare }: Props) {
  if (!style || partners.length === 0) return null;
  const second = partners.find((p) => p.id === secondId) ?? null;
  const first = Math.round(share * 100);
  return (
    <section className="step" aria-labelledby="blend-title">
      <h2 className="step__title" id="blend-title">
        Blend
      </h2>
      <div className="field">
        <label htmlFor="blend-second">Mix {style.name} with</label>
        <select
          id="blend-second"
          className="select"
          value={second?.id ?? ""}
          onChange={(event) => onSecond(event.target.value || null)}
        >
          <option value="">No second style</option>
          {partners.map((partner) => (
            <option key={partner.id} value={partner.id}>
              {partner.name}
            </option>
          ))}
        </select>
      </div>
      {second && (
        <div className="field">
          <div className="field__row">
            <label htmlFor="blend-share">Mix</label>
            <output htmlFor="blend-share" className="field__value" data-testid="blend-shares">
              {first}% {style.name} · {100 - first}% {second.name}
            </output>
          </div>
          <ShareSlider id="blend-share" value={share} valueText={`${first}% ${style.name}, ${100 - first}% ${second.name}`}
            onChange={onShare} />
        </div>
      )}
    </section>
  );
}

/** The styles a style can be blended with: the other blendable styles of its network, or for one of your own
 * styles, the styles its file holds. */
export function blendPartners(styles: Style[] | null, style: Style | null): Style[] {
  if (!styles || !style?.blendable) return [];
  if (style.blendsWith) return styles.filter((s) => s.id !== style.id && style.blendsWith!.includes(s.id));
  if (!style.network) return [];
  return styles.filter((s) => s.id !== style.id && s.blendable && s.network === style.network);
}
