import { fireEvent, render, screen } from "@testing-library/react";
import type { Style } from "../../api/types";
import { BlendField, blendPartners } from "./BlendField";

const style = (id: string, network: string, blendable: boolean): Style => ({
  id, name: id.toUpperCase(), artist: "A", year: null, thumbnail: null, network, blendable,
});
const STYLES = [style("wave", "bundled", true), style("udnie", "bundled", true), style("scream", "bundled", true),
  style("mine", "mine", false)];

describe("BlendField", () => {
  it("offers only the other blendable styles of the same network", () => {
    expect(blendPartners(STYLES, STYLES[0]!).map((s) => s.id)).toEqual(["udnie", "scream"]);
    expect(blendPartners(STYLES, STYLES[3]!)).toEqual([]);
    expect(blendPartners(null, STYLES[0]!)).toEqual([]);
  });

  it("offers one of your own styles the styles its file holds, and no bundled style offers it", () => {
    const mine: Style = { ...style("user-x", "", true), network: undefined, blendsWith: ["udnie", "scream", "gone"] };
    const all = [...STYLES, mine];
    expect(blendPartners(all, mine).map((s) => s.id)).toEqual(["udnie", "scream"]); // only those listed here
    expect(blendPartners(all, STYLES[1]!).map((s) => s.id)).toEqual(["wave", "scream"]);
  });

  it("picks a second style by keyboard-operable controls and shows both shares", () => {
    const onSecond = vi.fn();
    const onShare = vi.fn();
    const { rerender } = render(
      <BlendField style={STYLES[0]!} partners={blendPartners(STYLES, STYLES[0]!)} secondId={null} share={0.5}
        onSecond={onSecond} onShare={onShare} />,
    );
    expect(screen.queryByRole("slider")).toBeNull();
    fireEvent.change(screen.getByLabelText("Mix WAVE with"), { target: { value: "udnie" } });
    expect(onSecond).toHaveBeenCalledWith("udnie");
    rerender(
      <BlendField style={STYLES[0]!} partners={blendPartners(STYLES, STYLES[0]!)} secondId="udnie" share={0.7}
        onSecond={onSecond} onShare={onShare} />,
    );
    expect(screen.getByTestId("blend-shares").textContent).toBe("70% WAVE · 30% UDNIE");
    fireEvent.change(screen.getByRole("slider"), { target: { value: "40" } });
    expect(onShare).toHaveBeenCalledWith(0.4);
  });

  it("is not there for a style that cannot blend", () => {
    const { container } = render(
      <BlendField style={STYLES[3]!} partners={[]} secondId={null} share={0.5} onSecond={vi.fn()} onShare={vi.fn()} />,
    );
    expect(container.textContent).toBe("");
  });
});
