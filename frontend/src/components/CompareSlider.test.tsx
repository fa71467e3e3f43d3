import { fireEvent, render, screen } from "@testing-library/react";
import { CompareSlider } from "./CompareSlider";

function setup() {
  render(<CompareSlider beforeUrl="blob:before" afterUrl="blob:after" beforeLabel="Original" afterLabel="Udnie" width={800} height={600} />);
  return { slider: screen.getByRole("slider", { name: "Comparison divider" }), after: screen.getByAltText("Udnie") };
}

describe("the before/after comparison", () => {
  // A native range input does the dragging and the arrow keys (jsdom does not simulate those keys;
  // the e2e tests press them in Chromium): here, that its value drives the divider.
  it("starts halfway and moves the divider with the slider's value", () => {
    const { slider, after } = setup();
    expect(after.style.clipPath).toBe("inset(0 0 0 50%)");
    fireEvent.change(slider, { target: { value: "80" } });
    expect(after.style.clipPath).toBe("inset(0 0 0 80%)");
    expect(slider).toHaveAttribute("aria-valuetext", "20% stylized, 80% original");
  });

  it("is a labelled, focusable control over an image of the right aspect ratio", () => {
    const { slider } = setup();
    slider.focus();
    expect(slider).toHaveFocus();
    expect(slider).toHaveAccessibleDescription(/arrow keys/);
    expect(screen.getByRole("figure")).toHaveStyle({ aspectRatio: "800 / 600" });
    expect(screen.getByAltText("Original: your photo")).toHaveAttribute("src", "blob:before");
  });
});
